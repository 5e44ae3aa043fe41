export type { OpsContext } from './context.js';
export { addUser, setUser, removeUser, userToken, listUsers, showUser, viewUser, type AddOptions, type SetOptions, type RemoveOptions, type EditResult, type TokenResult, type UserView, type LimitOptions } from './users.js';
export { initRoot, renderRoot, type InitOptions, type RenderResult } from './deployment.js';
