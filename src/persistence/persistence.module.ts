import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ENUMERATION_CONTEXTS } from '../model/shared/enumeration-context';
import { AUDIT_LOG, CERTIFICATE_STORE, IDENTITY_STORE, JOB_QUEUE, LOGIN_FAILURE_STORE, REPLAY_CACHE, UNIT_OF_WORK } from '../model/shared/ports';
import { TypeormAuditLog } from './typeorm/typeorm-audit-log';
import { DATA_SOURCE, openDatabase } from './typeorm/data-source';
import { TypeormEnumerationStore } from './typeorm/typeorm-enumeration-store';
import { TypeormIdentityStore } from './typeorm/typeorm-identity-store';
import { TypeormJobQueue } from './typeorm/typeorm-job-queue';
import { TypeormUnitOfWork } from './typeorm/typeorm-unit-of-work';
import { TypeormCertificateStore, TypeormReplayCache } from './typeorm/typeorm-wss-stores';
import { TypeormLoginFailureStore } from './typeorm/typeorm-login-failure-store';
import { TypeormSubscriptionStore } from './typeorm/typeorm-subscription-store';
import { SUBSCRIPTION_STORE } from '../model/subscription/subscription';

export interface PersistenceOptions {
  /** postgres:// URL; SQLite on `sqlitePath` when absent */
  databaseUrl?: string;
  sqlitePath: string;
}

/**
 * Closes the database last: in `onApplicationShutdown` (the last shutdown phase) of a global module (the last
 * modules Nest shuts down), so that the job engine can still release its leases in its own shutdown hook.
 */
@Injectable()
export class DataSourceCloser implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

@Global()
@Module({})
export class PersistenceModule {
  static forRoot(opts: PersistenceOptions): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      providers: [
        {
          provide: DATA_SOURCE,
          useFactory: () => openDatabase({ databaseUrl: opts.databaseUrl, sqlitePath: opts.sqlitePath }),
        },
        {
          provide: UNIT_OF_WORK,
          useFactory: (ds: DataSource) => new TypeormUnitOfWork(ds),
          inject: [DATA_SOURCE],
        },
        {
          provide: JOB_QUEUE,
          useFactory: (ds: DataSource) => new TypeormJobQueue(ds),
          inject: [DATA_SOURCE],
        },
        {
          provide: IDENTITY_STORE,
          useFactory: (ds: DataSource) => new TypeormIdentityStore(ds),
          inject: [DATA_SOURCE],
        },
        {
          provide: CERTIFICATE_STORE,
          useFactory: (ds: DataSource) => new TypeormCertificateStore(ds),
          inject: [DATA_SOURCE],
        },
        {
          provide: REPLAY_CACHE,
          useFactory: (ds: DataSource) => new TypeormReplayCache(ds),
          inject: [DATA_SOURCE],
        },
        {
          provide: LOGIN_FAILURE_STORE,
          useFactory: (ds: DataSource) => new TypeormLoginFailureStore(ds),
          inject: [DATA_SOURCE],
        },
        {
          provide: ENUMERATION_CONTEXTS,
          useFactory: (ds: DataSource) => new TypeormEnumerationStore(ds),
          inject: [DATA_SOURCE],
        },
        {
          provide: AUDIT_LOG,
          useFactory: (ds: DataSource) => new TypeormAuditLog(ds),
          inject: [DATA_SOURCE],
        },
        {
          provide: SUBSCRIPTION_STORE,
          useFactory: (ds: DataSource) => new TypeormSubscriptionStore(ds),
          inject: [DATA_SOURCE],
        },
        DataSourceCloser,
      ],
      exports: [SUBSCRIPTION_STORE, DATA_SOURCE, UNIT_OF_WORK, JOB_QUEUE, IDENTITY_STORE, AUDIT_LOG, CERTIFICATE_STORE, REPLAY_CACHE, LOGIN_FAILURE_STORE, ENUMERATION_CONTEXTS],
    };
  }
}
