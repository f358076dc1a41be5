export interface Order {
  id: string;
  customer?: { address?: { city: string } };
}

export function shippingCity(order: Order): string {
  const city = order.customer!.address!.city;
  return city.trim();
}
