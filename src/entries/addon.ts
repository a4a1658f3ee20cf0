/**
 * Entry of the Gmail add-on project that agents install. The text shim loads first because the
 * core's mail helpers bring in a decoder that needs TextDecoder at load time.
 */
import '../gas/text-shim';

export {
  onAssign,
  onComment,
  onGmailMessage,
  onHomepage,
  onOpenAsTicket,
  onSaveSheet,
  onSetStatus,
  onShowHome,
  onShowTicket,
  onToggleFollow,
} from '../gas/addon';
