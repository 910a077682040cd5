import { inject } from 'vitest';
import { deleteKeys, redisStore, uniqueName } from '../support/adapters.ts';
import { describeModelStoreContract } from './model-store.contract.ts';

const services = inject('services');

describeModelStoreContract('redis', async () => {
  const prefix = uniqueName('store');
  const other = uniqueName('store');
  const store = await redisStore(services, prefix);
  return {
    store,
    second: () => redisStore(services, prefix),
    fresh: () => redisStore(services, other),
    cleanup: async () => {
      await deleteKeys(services, prefix);
      await deleteKeys(services, other);
    },
  };
});
