/**
 * Retraining step "DecompressTrainingSet" / "DecompressValidationSet": one split's UNLOAD output
 * (gzip text, as Athena writes it) copied to the training job's channel uncompressed (channels.ts).
 */
import { logger } from '../../commons/observability';
import { s3 } from '../../commons/s3';
import { copyChannel, type ChannelCopy } from '../channels';

export interface ChannelsInput {
  /** s3:// prefix the UNLOAD wrote. */
  unloadUri: string;
  /** s3:// prefix of the training job's channel. */
  channelUri: string;
}

export async function handler(input: ChannelsInput): Promise<ChannelCopy> {
  const copied = await copyChannel(s3(), input.unloadUri, input.channelUri);
  logger.info('training channel written', { ...input, ...copied });
  return copied;
}
