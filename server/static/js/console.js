/* Counter console page (server/templates/console.html): its entry module. Imports the
 * console's modules (console_state.js lists them; each imports what it uses from the
 * others) and the intake dialog, then starts the page: the clocks, the first paint from
 * the page data and the staff stream.
 *
 * window.LoketConsole = {state, isTyping, stream} is a handle for the browser tests and
 * support (tests wait on state.synced / state.online); no module reads it.
 */
import {state} from "./console_state.js";
import "./console_requests.js";
import "./console_render.js";
import "./console_lists.js";
import {isTyping} from "./console_dialogs.js";
import "./console_counter.js";
import "./console_actions.js";
import {start} from "./console_stream.js";
import "./intake.js";
import {scriptReady} from "./loket.js";

const stream = start();
scriptReady();  // the choose form's handler is attached (console_counter.js)
window.LoketConsole = {state, isTyping, stream};
