function displayName(user) {
  return user.name.trim() || "anonymous";
}

export function label(user) {
  return `${displayName(user)} <${user.email}>`;
}
