/** The mall's shop categories (the hub's registry.CATEGORIES), named by the catalogue. */
export { CATEGORIES as CATEGORY_CODES } from '../../app/common';
