// The templates as the bundled CLI carries them: scripts/bundle-cli.mjs
// replaces this module with their text and handlebars' precompiled form, so
// the CLI reads no templates/ folder and loads only handlebars' runtime.
// From source (tests, tools) there is none, and templates/ is read instead.
import type { TemplateSources } from '@ocm/core';

export const PRECOMPILED_TEMPLATES: TemplateSources | undefined = undefined;
