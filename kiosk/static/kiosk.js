/* Kiosk page (kiosk/templates/kiosk/kiosk.html): its entry module. Imports the kiosk's
 * modules (kiosk_state.js lists them; each imports what it uses from the others, and
 * loket.js from the server's static/js), then starts the clock and the office stream and
 * listens for booking scans on its socket.
 *
 * window.LoketKiosk = {stream, model, ui} is a handle for the browser tests and support;
 * no module reads it.
 */
import {model, ui} from "./kiosk_state.js";
import "./kiosk_services.js";
import "./kiosk_ticket.js";
import {start} from "./kiosk_stream.js";
import {listen} from "./checkin.js";

const stream = start();
listen(stream.socket);
window.LoketKiosk = {stream, model, ui};
