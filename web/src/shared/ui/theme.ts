import { createTheme } from '@mantine/core';

// Vazirmatn (self-hosted from @fontsource-variable/vazirmatn) has Persian and Latin letters.
const FONT = "'Vazirmatn Variable', Vazirmatn, system-ui, sans-serif";

export const theme = createTheme({
  fontFamily: FONT,
  headings: { fontFamily: FONT },
  primaryColor: 'teal',
  defaultRadius: 'md',
});
