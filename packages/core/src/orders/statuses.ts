/** An order counts (PLACED) or not (CANCELLED). */
export const ORDER_STATUSES = ['PLACED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
