-- SQLite dump of the bakery shop database, 2026-03-01
BEGIN TRANSACTION;
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL);
INSERT INTO products VALUES (1, 'Sourdough loaf', 520);
INSERT INTO products VALUES (2, 'Rye bread', 480);
INSERT INTO products VALUES (3, 'Cinnamon bun', 310);
CREATE TABLE orders (id INTEGER PRIMARY KEY, product_id INTEGER REFERENCES products(id), quantity INTEGER, ordered_at TEXT);
INSERT INTO orders VALUES (1, 1, 2, '2026-02-28 08:12');
INSERT INTO orders VALUES (2, 3, 6, '2026-02-28 09:40');
INSERT INTO orders VALUES (3, 2, 1, '2026-02-28 11:05');
INSERT INTO orders VALUES (4, 1, 1, '2026-03-01 07:58');
COMMIT;
