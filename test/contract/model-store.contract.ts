import { describe, expect, it } from 'vitest';
import { describeCatalogContract } from './store/catalog.contract.ts';
import { describeChangeFeedsContract } from './store/change-feeds.contract.ts';
import { storeUnderTest, type ModelStoreFixture } from './store/fixture.ts';
import { describeRowStoreContract } from './store/rows.contract.ts';
import { describeServingReadsContract } from './store/serving-reads.contract.ts';
import { describeSnapshotContract } from './store/snapshots.contract.ts';

export type { ModelStoreFixture };

/**
 * The behaviour every ModelStore adapter must have (run against memory and Redis): one suite
 * per part of the port (shared/ports/store/), plus what the whole store adds.
 */
export function describeModelStoreContract(name: string, open: () => Promise<ModelStoreFixture>): void {
  describeRowStoreContract(name, open);
  describeServingReadsContract(name, open);
  describeCatalogContract(name, open);
  describeChangeFeedsContract(name, open);
  describeSnapshotContract(name, open);
  describe(`ModelStore contract: ${name}`, () => {
    const t = storeUnderTest(open);

    it('answers ping while open', async () => {
      expect(await t.store.ping()).toBe(true);
    });
  });
}
