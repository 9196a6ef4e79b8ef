/**
 * Served at /assets/local-times.js: every `<time data-local>` shows its moment in the reader's
 * own time zone and language (the server writes UTC, which stays when scripts are off).
 */
export const localTimesJs = `"use strict";
const localTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
for (const time of document.querySelectorAll("time[data-local]")) {
  const moment = new Date(time.dateTime);
  if (!Number.isNaN(moment.getTime())) {
    time.title = time.textContent;
    time.textContent = localTime.format(moment);
  }
}
`;
