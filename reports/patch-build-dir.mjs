// Runs after `npm install` / `npm ci` (package.json "postinstall").
//
// `evidence build` builds into .evidence/template/build, then copies that into ./build, the
// site itself, over what an earlier build left there: pages and data of people who no longer
// exist stayed, and a build killed during the copy left half a site. This makes the copy's
// destination INFLUENCER_LENS_SITE_OUT when it is set, so `make report` builds beside the site
// and swaps the new one in whole (reports/publish_site.py). Unset, Evidence behaves as before.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const target = path.join(here, 'node_modules', '@evidence-dev', 'evidence', 'cli.js');
const original = "fs.copySync(outDir, './build');";
const patched =
	"fs.copySync(outDir, process.env.INFLUENCER_LENS_SITE_OUT ?? './build'); /* patch-build-dir.mjs */";
let text = fs.readFileSync(target, 'utf8');
if (!text.includes(patched)) {
	if (!text.includes(original)) {
		console.error(`patch-build-dir: "${original}" not found in ${target}; ` +
			'the @evidence-dev/evidence version changed, review this patch.');
		process.exit(1);
	}
	text = text.replace(original, patched);
	fs.writeFileSync(target, text);
}
console.log('patch-build-dir: evidence build copies to INFLUENCER_LENS_SITE_OUT when set');
