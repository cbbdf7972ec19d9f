"""Access: users, roles, login and signed session tokens."""
