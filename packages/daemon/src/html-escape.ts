// Text into HTML or SVG markup: every character that could end a text node or attribute becomes an entity.
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
