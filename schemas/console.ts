/** The live console's static site, as the local platform serves it and as the stack deploys it. */
import { join } from 'node:path';

/** The console's files: plain HTML and ES modules, no build step. */
export const CONSOLE_DIR = join(__dirname, '..', 'console');

/** The page may read any API (its base URL is configurable), but runs only its own script. */
export const CONSOLE_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src *; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
