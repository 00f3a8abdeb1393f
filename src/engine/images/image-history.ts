/**
 * `docker history`: an image's history entries, newest first, as dockerd lists them
 * (`[moby] daemon/images/image_history.go`): each entry that made a layer gets that layer's size;
 * the top entry carries the image's ID and tags, entries of a local parent image (docker
 * commit) that one's, the rest `<missing>`.
 */
import { unixSeconds } from './image-views';
import type { ImageRecord } from './types';

export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export interface HistoryLookup {
  /** A stored image by ID (undefined when unknown or removed). */
  image(id: string): Promise<ImageRecord | undefined>;
  /** Familiar `repo:tag` names of an image. */
  tags(id: string): Promise<string[]>;
  /** Unpacked size of a layer by chain ID. */
  layerSize(chainId: string): Promise<number>;
}

export async function imageHistory(rec: ImageRecord, lookup: HistoryLookup): Promise<HistoryItem[]> {
  const entries = rec.config.history ?? [];
  const items: HistoryItem[] = [];
  let layer = 0;
  for (const h of entries) {
    const size = h.empty_layer ? 0 : await lookup.layerSize(rec.chainIds[layer++] ?? '');
    items.push({ Id: '<missing>', Created: unixSeconds(h.created), CreatedBy: h.created_by ?? '', Tags: null, Size: size, Comment: h.comment ?? '' });
  }
  // A parent's history is the prefix of its child's: each local image names its own top entry.
  for (let owner: ImageRecord | undefined = rec; owner; owner = owner.parent ? await lookup.image(owner.parent) : undefined) {
    const top = (owner.config.history ?? []).length - 1;
    if (top < 0 || top >= items.length) break;
    items[top].Id = owner.id;
    const tags = await lookup.tags(owner.id);
    items[top].Tags = tags.length ? tags : null;
  }
  return items.reverse();
}
