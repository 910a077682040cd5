import { filterKnownWarnings } from '../../shared/observability/warnings.ts';

filterKnownWarnings();
