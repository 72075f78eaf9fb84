<?php
// Two people with groups: alice in two groups, bob in one.
$config = [
    'admin' => ['core:AdminPassword'],
    'example-userpass' => [
        'exampleauth:UserPass',
        'alice:alicepass' => [
            'uid' => ['alice'],
            'mail' => ['alice@example.test'],
            'givenName' => ['Alice'],
            'sn' => ['Liddell'],
            'groups' => ['scim-admins', 'engineering'],
        ],
        'bob:bobpass' => [
            'uid' => ['bob'],
            'mail' => ['bob@example.test'],
            'givenName' => ['Bob'],
            'sn' => ['Builder'],
            'groups' => ['readers'],
        ],
    ],
];
