// What a JavaScript action does for one alert: read inputs with @actions/core, POST with fetch.
import * as core from "@actions/core";

const url = core.getInput("url", { required: true });
const response = await fetch(url, {
  method: "POST",
  headers: { "Content-Type": "application/json", "X-Webhook-Key": core.getInput("key") },
  body: JSON.stringify({ phone_number: "5550001122", error_message: core.getInput("message") }),
});
if (!response.ok) core.setFailed(`HTTP ${response.status}`);
