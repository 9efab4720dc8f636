// Minimal HTTP server that serves a health check and a JSON list of books.
const http = require("http");

const books = [
  { id: 1, title: "The Left Hand of Darkness", author: "Ursula K. Le Guin" },
  { id: 2, title: "Dune", author: "Frank Herbert" },
];

const server = http.createServer((req, res) => {
  if (req.url === "/health") {
    res.writeHead(200, { "Content-Type": "text/plain" });
    return res.end("ok");
  }
  if (req.url === "/books") {
    res.writeHead(200, { "Content-Type": "application/json" });
    return res.end(JSON.stringify(books));
  }
  res.writeHead(404);
  res.end();
});

server.listen(8080, () => console.log("listening on 8080"));
