import { fetchUser } from "./api.js";

export async function requireActive(id) {
  const user = fetchUser(id);
  if (user.active === false) {
    throw new Error(`user ${id} is disabled`);
  }
  return user;
}
