import { Initial1700000000000 } from './1700000000000-Initial';
import { ResourceListIndexes1700000000001 } from './1700000000001-ResourceListIndexes';
import { SealedPasswords1700000000002 } from './1700000000002-SealedPasswords';
import { WsSecurity1700000000003 } from './1700000000003-WsSecurity';
import { WsmanEnumeration1700000000004 } from './1700000000004-WsmanEnumeration';
import { AuditTrail1700000000005 } from './1700000000005-AuditTrail';
import { ResourceEvents1700000000006 } from './1700000000006-ResourceEvents';
import { TenantEventIndex1700000000007 } from './1700000000007-TenantEventIndex';
import { ResourceStateChanged1700000000008 } from './1700000000008-ResourceStateChanged';
import { LoginFailures1700000000009 } from './1700000000009-LoginFailures';
import { DisabledIdentities1700000000010 } from './1700000000010-DisabledIdentities';
import { TenantQuotas1700000000011 } from './1700000000011-TenantQuotas';
import { CollectionCounts1700000000012 } from './1700000000012-CollectionCounts';
import { Meters1700000000013 } from './1700000000013-Meters';
import { Subscriptions1700000000014 } from './1700000000014-Subscriptions';
import { ResourceKeysetIndex1700000000015 } from './1700000000015-ResourceKeysetIndex';
import { SubscriptionHeartbeats1700000000016 } from './1700000000016-SubscriptionHeartbeats';
import { MeterState1700000000017 } from './1700000000017-MeterState';
import { ClientMeters1700000000018 } from './1700000000018-ClientMeters';

/** Every migration, oldest first. The same set runs on SQLite and PostgreSQL. */
export const MIGRATIONS = [Initial1700000000000, ResourceListIndexes1700000000001, SealedPasswords1700000000002, WsSecurity1700000000003, WsmanEnumeration1700000000004, AuditTrail1700000000005, ResourceEvents1700000000006, TenantEventIndex1700000000007, ResourceStateChanged1700000000008, LoginFailures1700000000009, DisabledIdentities1700000000010, TenantQuotas1700000000011, CollectionCounts1700000000012, Meters1700000000013, Subscriptions1700000000014, ResourceKeysetIndex1700000000015, SubscriptionHeartbeats1700000000016, MeterState1700000000017, ClientMeters1700000000018];
