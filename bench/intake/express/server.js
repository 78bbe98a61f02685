// The Express side of the intake benchmark (bench/intake/run.sh): the receiver as the provider's
// documentation shows it (a Node/Express handler, the token in the URL), doing what `onfail
// serve` does before its answer: the token compared in constant time, the JSON parsed (64 KiB at
// most), the report kept once per id + status, the first arrival time kept. The store is a Map in
// memory: native SQLite modules for Node need a compiler this machine lacks, and a Map only
// flatters Express (nothing is durable).
// Usage: node server.js PORT TOKEN
"use strict";
const crypto = require("node:crypto");
const express = require("express");

const [port, token] = process.argv.slice(2);
const wanted = crypto.createHash("sha256").update(token).digest();
const reports = new Map();
const app = express();
app.disable("x-powered-by");

app.post("/v1/iletimerkezi/reports", express.json({ limit: "64kb" }), (req, res) => {
  const given = crypto.createHash("sha256").update(String(req.query.token || "")).digest();
  if (!crypto.timingSafeEqual(given, wanted)) return res.status(401).json({ error: "missing or wrong token" });
  const report = req.body && req.body.report;
  if (!report || typeof report !== "object" || report.id === undefined || report.id === null || report.id === "") {
    return res.status(400).json({ error: "the body has no report.id" });
  }
  const key = `${report.id}\u0000${report.status || ""}`;
  if (!reports.has(key)) {
    reports.set(key, { packet_id: String(report.packet_id || ""), to: String(report.to || ""), at: Date.now() });
  }
  res.json({ received: true });
});
app.get("/count", (req, res) => res.json({ count: reports.size }));

app.listen(Number(port), "127.0.0.1");
