/* Device alerts on staff pages: a banner naming every station whose devices are not ok
 * (e.g. the lobby kiosk's printer out of paper: citizens then get on-screen tickets only).
 * The page's stream feeds it: set(state.devices), upsert(device) (console_stream.js). */
import {t} from "./loket.js";

const OK = new Set(["ok", "paper_low"]);
const devices = new Map();

function problems(d) {
  return Object.entries(d.devices || {}).filter(([, h]) => !OK.has(h.state))
    .map(([name, h]) => {
      const key = "alerts.state." + h.state, text = t(key);
      return t("alerts.part", {name, state: text === key ? h.state : text});
    });
}

function render() {
  const box = document.getElementById("device-alert");
  if (!box) return;
  const lines = [...devices.values()].filter((d) => d.active !== false && problems(d).length)
    .map((d) => d.name + ": " + problems(d).join(", "));
  box.hidden = lines.length === 0;
  box.textContent = lines.length ? t("alerts.title") + " " + lines.join(" · ") : "";
}

export function set(list) { devices.clear(); list.forEach((d) => devices.set(d.id, d)); render(); }

export function upsert(d) { devices.set(d.id, d); render(); }
