/** The example's coffee catalogue: prices in major units of USD, as Medusa keeps them. */
export const CATALOGUE: Array<{ title: string; category: string; sizes: Array<{ size: string; price: number }> }> = [
  {
    title: 'Ethiopia Yirgacheffe',
    category: 'Coffee',
    sizes: [
      { size: '250g', price: 16 },
      { size: '1kg', price: 54 },
    ],
  },
  {
    title: 'Colombia Huila',
    category: 'Coffee',
    sizes: [
      { size: '250g', price: 14 },
      { size: '1kg', price: 47.5 },
    ],
  },
  {
    title: 'Guatemala Antigua',
    category: 'Coffee',
    sizes: [
      { size: '250g', price: 15 },
      { size: '1kg', price: 51 },
    ],
  },
  {
    title: 'Kenya AA',
    category: 'Coffee',
    sizes: [
      { size: '250g', price: 19 },
      { size: '1kg', price: 64.6 },
    ],
  },
  {
    title: 'House Espresso',
    category: 'Coffee',
    sizes: [
      { size: '250g', price: 12 },
      { size: '1kg', price: 40.8 },
    ],
  },
  { title: 'Sencha', category: 'Tea', sizes: [{ size: '100g', price: 11 }] },
  { title: 'Gyokuro', category: 'Tea', sizes: [{ size: '100g', price: 28 }] },
  { title: 'Hojicha', category: 'Tea', sizes: [{ size: '100g', price: 9 }] },
  { title: 'Paper Filters', category: 'Brewing', sizes: [{ size: '100 pcs', price: 5 }] },
  {
    title: 'Pour-over Dripper',
    category: 'Brewing',
    sizes: [
      { size: 'Ceramic', price: 24 },
      { size: 'Plastic', price: 9.5 },
    ],
  },
];
