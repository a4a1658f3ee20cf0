/**
 * Entry of the processor project (the support account). The text shim must load first: the MIME
 * parser creates a TextDecoder when its module is evaluated.
 */
import '../gas/text-shim';

export { processInbox, setup } from '../gas/processor';
