const Stripe = require("stripe");
const stripe = Stripe("sk_live_r«»iRkqDbUP4813g7bwNsIsPbceCLizpLsfzdmRVQJCgGlPBYnfmJKBAIvHFoZfeFcaySb5MmsUMEdBMtlvQRiHKwIb7011pOIQ8X");
const firebaseConfig = {
  apiKey: "AIza«»SyDu25VGiqcq_6ijp_DCMMhVtieSf8NxCGg",
  authDomain: "shop-prod.firebaseapp.com",
  projectId: "shop-prod",
};
const discordHook = "https://discordapp.com/api/webhooks/2610«»61980228894635/BQcHGWAJfTr5CdYunVNLVJ4wyk3XsKYbY7WpUNr5pYPmHg-6SzMoUGfYtFW-tSNT3Oge";
const shopify = new Shopify({ shopName: "shop", accessToken: "shpa«»t_8bd2b1ddd4280d8d73d18f71f52842ff" });
const session = "eyJh«»bGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI03E5WkMDcErFLFIjDVNKH17vo69aH2.xZ0tBUYdtgQR39b2mAAYtHZzOx0AKzcWprEKmW3FtU_";
const basic = { headers: { Authorization: "Basic ZGVw«»bG95OlphYUFjQzVGWkRZblZ4c0E=" } };
const bearer = { headers: { Authorization: `Bearer ${token}` } };
const squareToken = "sq0a«»tp-UeEsITmQo-CZBSRCbwLFLF";
const stripeWebhookSecret = "whse«»c_vZ2dnCl9vcG3bQPnpFrZpD7D2QbtYbj5";
const gcpClientSecret = "GOCS«»PX-qDoIkhUzXm_cPYQZkEwtMnP7tY4s";
module.exports = { stripe, firebaseConfig, discordHook, shopify };
