/* The citizen's Drive-Thru lane screen: big text only, a masked name at most.
 * Connects with the pickup station's token as a lane screen (auth {token, lane: true}) and
 * shows each `lane` event {state: wait|ready|refused|collected, refusal, name, due_date}.
 * After a refusal or a hand-over it goes back to "Silakan tunggu" after RESET_MS. */
import {io, LANG, pageData, t} from "./loket.js";

const lane = pageData();   // {device_id, token} (pickup_lane.html)
const RESET_MS = 20000;
const $ = (id) => document.getElementById(id);
let timer = null;

function fmtDate(iso) {
  if (!iso) return "-";
  return new Date(iso + "T00:00:00").toLocaleDateString(LANG === "en" ? "en-GB" : "id-ID",
                                                        {day: "2-digit", month: "long", year: "numeric"});
}

function show(ev) {
  const state = ev.state || "wait";
  $("lane").dataset.state = state;
  $("lane").dataset.refusal = ev.refusal || "";
  let title = t("pickup.lane.wait"), hint = t("pickup.lane.wait_hint");
  if (state === "ready") { title = t("pickup.lane.ready"); hint = t("pickup.lane.ready_hint"); }
  if (state === "collected") { title = t("pickup.lane.collected"); hint = ""; }
  if (state === "refused") {
    title = t("pickup.lane.refused");
    hint = t("pickup.lane.refusal." + (ev.refusal || "unknown"), {due: fmtDate(ev.due_date)});
  }
  $("lane-title").textContent = title;
  $("lane-hint").textContent = hint;
  $("lane-name").textContent = ev.name || "";
  clearTimeout(timer);
  if (state === "refused" || state === "collected") timer = setTimeout(() => show({state: "wait"}), RESET_MS);
}

const dot = document.querySelector("[data-testid=connection-status]");
const socket = io({transports: ["websocket"], auth: {token: lane.token, lane: true},
                   reconnectionDelay: 500, reconnectionDelayMax: 5000});
socket.on("connect", () => { dot.classList.add("online"); document.body.dataset.joined = "1"; });
socket.on("disconnect", () => { dot.classList.remove("online"); document.body.dataset.joined = "0"; });
socket.on("lane", show);
