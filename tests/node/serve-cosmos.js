// Start @vercel/cosmosdb-server over HTTPS with a certificate the test minted.
// usage: node serve-cosmos.js HOST CERT.pem KEY.pem  -> prints "PORT <n>" once listening
"use strict";
const fs = require("fs");
const { createHttpsServer } = require("@vercel/cosmosdb-server");

const [host, certPath, keyPath] = process.argv.slice(2);
const server = createHttpsServer({
  cert: fs.readFileSync(certPath),
  key: fs.readFileSync(keyPath),
});
server.listen(0, host, () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
