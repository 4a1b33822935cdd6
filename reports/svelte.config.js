// Merged into Evidence's own svelte.config.js (Evidence reads this file from the project root).
//
// Single-page mode (VITE_EVIDENCE_SPA, package.json's build script): pages render in the
// browser from the data files of the site's data/manifest.json, so `ingest review` refreshes
// the figures by swapping those files alone, without bundling the site again (docs/decisions.md,
// "The report is one single-page site"). `fallback` is the shell every address is served from;
// reports/publish_site.py copies it to each page's folder so that a plain static server
// (`python3 -m http.server`) opens deep links too.
import adapter from '@sveltejs/adapter-static';

export default {
	kit: {
		adapter: adapter({
			pages: process.env.EVIDENCE_BUILD_DIR ?? './build',
			fallback: 'index.html',
			strict: false
		})
	}
};
