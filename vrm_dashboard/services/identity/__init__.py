"""Who may sign in and what they may do: accounts, password hashes, sessions and lockout,
invitations and resets, API keys, and the role x action permission matrix."""
