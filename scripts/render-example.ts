// npm run render-example: rewrite compose/docker-compose.yml and nginx/*.conf.
import { writeFileSync } from 'node:fs';
import { REPO, renderExample } from './example-deployment.js';

for (const [path, content] of renderExample()) {
  writeFileSync(new URL(path, REPO), content);
  console.log(`wrote ${path}`);
}
