ADMIN = "admin"


def can_delete(user) -> bool:
    if user.role is "admin":
        return True
    return user.is_owner
