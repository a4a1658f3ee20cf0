/**
 * Cards as plain data in the shape of Google's Workspace add-on card JSON (google.apps.card.v1),
 * limited to the widgets plusdesk uses. The Apps Script adapter turns a Card into CardService
 * calls and the local preview turns it into HTML; both escape the text, so builders never do.
 */

/** The functions the card buttons call. Each must exist as a global in the add-on bundle. */
export const CARD_ACTIONS = [
  'onToggleFollow',
  'onAssign',
  'onSetStatus',
  'onComment',
  'onShowTicket',
  'onShowHome',
  'onOpenAsTicket',
  'onSaveSheet',
] as const;

export type CardActionName = (typeof CARD_ACTIONS)[number];

export function isCardAction(name: string): name is CardActionName {
  return (CARD_ACTIONS as readonly string[]).includes(name);
}

export interface ActionParameter {
  key: string;
  value: string;
}

export interface CardAction {
  function: CardActionName;
  parameters: ActionParameter[];
}

export interface OnClick {
  action: CardAction;
}

export interface Button {
  text: string;
  onClick: OnClick;
  /** FILLED marks the main button of a group; the default is an outlined button. */
  type?: 'FILLED' | 'OUTLINED';
}

export interface CardHeader {
  title: string;
  subtitle?: string;
}

export interface TextParagraph {
  text: string;
}

/** A card icon from Google's built-in set, such as PERSON, EMAIL, CLOCK or STAR. */
export interface Icon {
  knownIcon: string;
}

export interface DecoratedText {
  topLabel?: string;
  text: string;
  bottomLabel?: string;
  startIcon?: Icon;
  button?: Button;
  wrapText?: boolean;
}

export interface ButtonList {
  buttons: Button[];
}

export interface TextInput {
  name: string;
  label: string;
  hintText?: string;
  type?: 'SINGLE_LINE' | 'MULTIPLE_LINE';
}

export interface SelectionItem {
  text: string;
  value: string;
  selected: boolean;
}

export interface SelectionInput {
  name: string;
  label: string;
  type: 'DROPDOWN';
  items: SelectionItem[];
}

export type Widget =
  | { textParagraph: TextParagraph }
  | { decoratedText: DecoratedText }
  | { buttonList: ButtonList }
  | { textInput: TextInput }
  | { selectionInput: SelectionInput }
  | { divider: Record<string, never> };

export interface CardSection {
  header?: string;
  collapsible?: boolean;
  /** Widgets shown while a collapsible section is collapsed. */
  uncollapsibleWidgetsCount?: number;
  widgets: Widget[];
}

export interface CardFixedFooter {
  primaryButton: Button;
  secondaryButton?: Button;
}

export interface Card {
  header: CardHeader;
  sections: CardSection[];
  fixedFooter?: CardFixedFooter;
}

/** Time zone of the agent, as Gmail passes it in the add-on event (`timeZone.id`, `offset`). */
export interface AgentTimeZone {
  id: string;
  /** Offset from UTC in milliseconds at the time of the event. */
  offset: number;
}

export interface CardOptions {
  /** Zone that times are shown in. Without it, times are shown in UTC and marked as UTC. */
  timeZone?: AgentTimeZone;
}

export function button(
  text: string,
  name: CardActionName,
  parameters: Record<string, string> = {},
  type?: Button['type'],
): Button {
  const result: Button = {
    text,
    onClick: {
      action: {
        function: name,
        parameters: Object.entries(parameters).map(([key, value]) => ({ key, value })),
      },
    },
  };
  if (type !== undefined) result.type = type;
  return result;
}

export function paragraph(text: string): Widget {
  return { textParagraph: { text } };
}

export function buttons(...list: Button[]): Widget {
  return { buttonList: { buttons: list } };
}
