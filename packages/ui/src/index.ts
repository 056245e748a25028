export { startUiServer, type UiServer, type UiServerOptions } from './server.js';
export type { ViewStats } from './client.js';
export type { Health, Row } from './protocol.js';
export { openUi, type OpenUi, type OpenUiOptions } from './open.js';
