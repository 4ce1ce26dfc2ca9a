export { customTokenExchange, customTokenExchangeParams } from './custom.js';
export { getAccessTokenForConnection, FEDERATED_CONNECTION_GRANT, FEDERATED_CONNECTION_TOKEN_TYPE } from './connection.js';
export { exchange } from './exchange.js';
export { ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE, REFRESH_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT, checkFields, checkToken, invalid, misuse } from './params.js';
export type * from './requests.js';
