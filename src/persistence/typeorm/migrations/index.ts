import { Initial1700000000000 } from './1700000000000-Initial';

/** Every migration, oldest first. The same set runs on SQLite and PostgreSQL. */
export const MIGRATIONS = [Initial1700000000000];
