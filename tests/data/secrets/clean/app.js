const apiKey = process.env.STRIPE_API_KEY;
const token = localStorage.getItem("token");
const headers = { Authorization: `Bearer ${token}` };
const password = form.elements.password.value;
const secretKey = config.get("secretKey");
export const TOKEN_STORAGE_KEY = "auth.token";
const id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const sri = "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC";
