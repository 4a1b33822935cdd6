// Runs after `npm install` / `npm ci` (package.json "postinstall").
//
// The report pins @duckdb/duckdb-wasm to 1.28.0 (DuckDB 0.9.2) because it is the last version with
// the parquet extension built in: later versions download it from extensions.duckdb.org at run
// time, which hangs `evidence sources` offline and would break the built site without internet.
// @evidence-dev/universal-sql 3.x starts every session with two settings DuckDB 0.9 does not have
// (`ieee_floating_point_ops`, `old_implicit_casting`); both only restore 0.9 behaviour on newer
// DuckDB, so on 0.9 it is correct to skip them. This removes those two statements (a failing
// statement would also be logged to the browser console by the duckdb worker).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.join(here, 'node_modules', '@evidence-dev', 'universal-sql', 'src', 'client-duckdb');
const settings = ['SET ieee_floating_point_ops = false;', 'SET old_implicit_casting = true;'];

for (const file of ['node.js', 'browser.js']) {
	const target = path.join(dir, file);
	let text = fs.readFileSync(target, 'utf8');
	for (const sql of settings) {
		const original = `await connection.query('${sql}');`;
		const patched = `/* patch-universal-sql.mjs: ${sql} not in DuckDB 0.9 (duckdb-wasm 1.28) */`;
		if (text.includes(patched)) continue;
		if (!text.includes(original)) {
			console.error(`patch-universal-sql: "${original}" not found in ${target}; ` +
				'the @evidence-dev/universal-sql version changed, review this patch.');
			process.exit(1);
		}
		text = text.replace(original, patched);
	}
	fs.writeFileSync(target, text);
}
console.log('patch-universal-sql: @evidence-dev/universal-sql adapted to duckdb-wasm 1.28.0');
