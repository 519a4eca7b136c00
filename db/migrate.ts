import { createDb } from '../projections/database.ts';
import { readInfraConfig } from '../shared/config/infra.ts';
import { ensureDatabase, migrateToLatest } from './migrator.ts';

// `npm run db:migrate`: creates the database if needed and applies every pending migration.
const { databaseUrl } = readInfraConfig(process.env);
await ensureDatabase(databaseUrl);
const db = createDb(databaseUrl);
await migrateToLatest(db);
await db.destroy();
console.log('migrations applied');
