// Every command's action, which main.ts loads only once a command runs: `--help`, `--version`
// and a mistyped option never evaluate the server, and the bundle keeps them in one chunk.
export { grant, revoke, token } from "./commands/access.ts";
export { assetAdd } from "./commands/assets.ts";
export { checkoutSettingsCommand } from "./commands/checkoutSettings.ts";
export { doctor } from "./commands/doctor.ts";
export {
  licenseKeygen,
  licenseLimit,
  licenseList,
  licenseReset,
  licenseRevoke,
  licenseShow,
} from "./commands/licenses.ts";
export { localStripeCall, localStripeServe } from "./commands/localStripeActions.ts";
export {
  eventsCommand,
  ordersCommand,
  reconcileCommand,
  replayCommand,
} from "./commands/orders.ts";
export { productAdd, productList, productUpdate } from "./commands/products.ts";
export { releaseAdd, releaseList } from "./commands/releases.ts";
export { reopen } from "./commands/reopen.ts";
export { migrate, serve } from "./commands/server.ts";
export { trace } from "./commands/trace.ts";
export { why } from "./commands/why.ts";
