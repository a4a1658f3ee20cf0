/**
 * The widgets, buttons and actions of the emulated CardService, with the helpers every card
 * builder shares. Each object records what was set and renders it as Google's add-on card JSON
 * (google.apps.card.v1), leaving out fields that were never set.
 */
import type { Runtime, Subset } from './runtime';

export type Json = Record<string, unknown>;

function names<T extends string>(...values: T[]): Readonly<Record<T, T>> {
  return Object.freeze(Object.fromEntries(values.map((value) => [value, value])) as Record<T, T>);
}

export const CARD_ENUMS = {
  TextButtonStyle: names('OUTLINED', 'FILLED', 'FILLED_TONAL', 'BORDERLESS', 'TEXT'),
  SelectionInputType: names('CHECK_BOX', 'RADIO_BUTTON', 'DROPDOWN', 'SWITCH', 'MULTI_SELECT'),
  OnClose: names('NOTHING', 'RELOAD', 'RELOAD_ADD_ON'),
  OpenAs: names('FULL_SIZE', 'OVERLAY'),
  ImageStyle: names('SQUARE', 'CIRCLE'),
  ImageCropType: names('SQUARE', 'CIRCLE', 'RECTANGLE_CUSTOM', 'RECTANGLE_4_3'),
  LoadIndicator: names('SPINNER', 'NONE'),
  DisplayStyle: names('PEEK', 'REPLACE'),
  GridItemLayout: names('TEXT_BELOW', 'TEXT_ABOVE'),
  HorizontalAlignment: names('START', 'CENTER', 'END'),
  SwitchControlType: names('SWITCH', 'CHECK_BOX'),
  InputType: names('TEXT', 'INTEGER', 'FLOAT', 'EMAIL'),
  BorderType: names('NO_BORDER', 'STROKE'),
  Interaction: names('INTERACTION_UNSPECIFIED', 'OPEN_DIALOG'),
  ComposedEmailType: names('REPLY_AS_DRAFT', 'STANDALONE_DRAFT'),
  ContentType: names('TEXT', 'MUTABLE_HTML', 'IMMUTABLE_HTML'),
  UpdateDraftBodyType: names('IN_PLACE_INSERT'),
  Icon: names(
    'NONE',
    'AIRPLANE',
    'BOOKMARK',
    'BUS',
    'CAR',
    'CLOCK',
    'CONFIRMATION_NUMBER_ICON',
    'DOLLAR',
    'DESCRIPTION',
    'EMAIL',
    'EVENT_PERFORMER',
    'EVENT_SEAT',
    'FLIGHT_ARRIVAL',
    'FLIGHT_DEPARTURE',
    'HOTEL',
    'HOTEL_ROOM_TYPE',
    'INVITE',
    'MAP_PIN',
    'MEMBERSHIP',
    'MULTIPLE_PEOPLE',
    'OFFER',
    'PERSON',
    'PHONE',
    'RESTAURANT_ICON',
    'SHOPPING_CART',
    'STAR',
    'STORE',
    'TICKET',
    'TRAIN',
    'VIDEO_CAMERA',
    'VIDEO_PLAY',
  ),
};

/** Class names used in counted call names (`CardBuilder.addSection`, ...). */
export const CARD_CLASS_NAMES = [
  'CardService',
  'Action',
  'OpenLink',
  'TextButton',
  'ImageButton',
  'ButtonSet',
  'TextParagraph',
  'DecoratedText',
  'KeyValue',
  'IconImage',
  'MaterialIcon',
  'Switch',
  'TextInput',
  'SelectionInput',
  'Divider',
  'Image',
  'Grid',
  'GridItem',
  'ImageComponent',
  'CardSection',
  'CardHeader',
  'CardAction',
  'FixedFooter',
  'CardBuilder',
  'Card',
  'Notification',
  'Navigation',
  'ActionResponseBuilder',
  'ActionResponse',
  'UniversalActionResponseBuilder',
  'UniversalActionResponse',
] as const;

/** Google documents at most 100 sections per card and 100 widgets per section. */
export const SECTION_LIMIT = 100;
export const WIDGET_LIMIT = 100;

/** Drops keys whose value is undefined. */
export function compact(object: Json): Json {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

export function checkEnum(rt: Runtime, kind: keyof typeof CARD_ENUMS, value: unknown): string {
  const text = String(value);
  if (!(text in CARD_ENUMS[kind])) throw rt.exception(`Invalid argument: ${String(value)} is not a CardService.${kind} value`);
  return text;
}

export abstract class CardObject {
  constructor(
    protected readonly rt: Runtime,
    private readonly kind: string,
  ) {}

  protected call<T>(method: string, action: () => T): T {
    return this.rt.track(`${this.kind}.${method}`, action);
  }

  /** Counts a setter call and returns the builder for chaining. */
  protected update(method: string, apply: () => void): this {
    return this.call(method, () => {
      apply();
      return this;
    });
  }
}

/** Returns a card object the script hands back in, after checking that this emulator made it. */
export function part<T>(value: unknown, type: abstract new (...args: never[]) => T, what: string): T {
  if (!(value instanceof type)) throw new Error(`CardService emulation: expected ${what} from this emulator`);
  return value;
}

/** Something that can be added to a section with addWidget. */
export abstract class WidgetObject extends CardObject {
  abstract widgetJson(): Json;
}

/** onClick of buttons and clickable widgets. */
export class Clickable {
  onClick: Json | undefined;

  action(action: unknown): void {
    this.onClick = { action: part(action, EmulatedAction, 'an Action').json() };
  }

  openLink(link: unknown): void {
    this.onClick = { openLink: part(link, EmulatedOpenLink, 'an OpenLink').json() };
  }

  openLinkAction(action: unknown): void {
    this.onClick = { openDynamicLinkAction: part(action, EmulatedAction, 'an Action').json() };
  }
}

export class EmulatedAction
  extends CardObject
  implements
    Subset<
      GoogleAppsScript.Card_Service.Action,
      | 'setFunctionName'
      | 'setParameters'
      | 'setLoadIndicator'
      | 'setPersistValues'
      | 'setInteraction'
      | 'addRequiredWidget'
      | 'setAllWidgetsAreRequired'
    >
{
  private functionName: string | undefined;
  private parameters: { key: string; value: string }[] = [];
  private loadIndicator: string | undefined;
  private persistValues: boolean | undefined;
  private interaction: string | undefined;
  private requiredWidgets: string[] = [];
  private allWidgetsAreRequired: boolean | undefined;

  constructor(rt: Runtime) {
    super(rt, 'Action');
  }

  setFunctionName(functionName: string): this {
    return this.update('setFunctionName', () => {
      if (typeof functionName !== 'string' || functionName === '') throw this.rt.exception('Invalid argument: functionName');
      this.functionName = functionName;
    });
  }

  /** Parameters must be strings, as Apps Script requires. */
  setParameters(parameters: { [key: string]: string }): this {
    return this.update('setParameters', () => {
      if (parameters === null || typeof parameters !== 'object') throw this.rt.exception('Invalid argument: parameters');
      const entries = Object.entries(parameters);
      const bad = entries.find(([, value]) => typeof value !== 'string');
      if (bad !== undefined) {
        throw this.rt.exception(`Invalid argument: parameters. The value of "${bad[0]}" must be a string.`);
      }
      this.parameters = entries.map(([key, value]) => ({ key, value }));
    });
  }

  setLoadIndicator(loadIndicator: GoogleAppsScript.Card_Service.LoadIndicator): this {
    return this.update('setLoadIndicator', () => {
      this.loadIndicator = checkEnum(this.rt, 'LoadIndicator', loadIndicator);
    });
  }

  setPersistValues(persistValues: boolean): this {
    return this.update('setPersistValues', () => {
      this.persistValues = Boolean(persistValues);
    });
  }

  setInteraction(interaction: GoogleAppsScript.Card_Service.Interaction): this {
    return this.update('setInteraction', () => {
      this.interaction = checkEnum(this.rt, 'Interaction', interaction);
    });
  }

  addRequiredWidget(requiredWidget: string): this {
    return this.update('addRequiredWidget', () => {
      this.requiredWidgets.push(String(requiredWidget));
    });
  }

  setAllWidgetsAreRequired(allWidgetsAreRequired: boolean): this {
    return this.update('setAllWidgetsAreRequired', () => {
      this.allWidgetsAreRequired = Boolean(allWidgetsAreRequired);
    });
  }

  json(): Json {
    if (this.functionName === undefined) throw this.rt.exception('An Action needs a function name: call setFunctionName.');
    return compact({
      function: this.functionName,
      parameters: this.parameters.map((parameter) => ({ ...parameter })),
      loadIndicator: this.loadIndicator,
      persistValues: this.persistValues,
      interaction: this.interaction,
      requiredWidgets: this.requiredWidgets.length > 0 ? [...this.requiredWidgets] : undefined,
      allWidgetsAreRequired: this.allWidgetsAreRequired,
    });
  }
}

export class EmulatedOpenLink
  extends CardObject
  implements Subset<GoogleAppsScript.Card_Service.OpenLink, 'setUrl' | 'setOpenAs' | 'setOnClose'>
{
  private url: string | undefined;
  private openAs: string | undefined;
  private onClose: string | undefined;

  constructor(rt: Runtime) {
    super(rt, 'OpenLink');
  }

  setUrl(url: string): this {
    return this.update('setUrl', () => {
      this.url = String(url);
    });
  }

  setOpenAs(openAs: GoogleAppsScript.Card_Service.OpenAs): this {
    return this.update('setOpenAs', () => {
      this.openAs = checkEnum(this.rt, 'OpenAs', openAs);
    });
  }

  setOnClose(onClose: GoogleAppsScript.Card_Service.OnClose): this {
    return this.update('setOnClose', () => {
      this.onClose = checkEnum(this.rt, 'OnClose', onClose);
    });
  }

  json(): Json {
    if (this.url === undefined) throw this.rt.exception('An OpenLink needs a URL: call setUrl.');
    return compact({ url: this.url, openAs: this.openAs, onClose: this.onClose });
  }
}

export class EmulatedTextButton
  extends WidgetObject
  implements
    Subset<
      GoogleAppsScript.Card_Service.TextButton,
      | 'setText'
      | 'setOnClickAction'
      | 'setOpenLink'
      | 'setOnClickOpenLinkAction'
      | 'setTextButtonStyle'
      | 'setDisabled'
      | 'setBackgroundColor'
      | 'setAltText'
    >
{
  private text: string | undefined;
  private readonly click = new Clickable();
  private style: string | undefined;
  private disabled: boolean | undefined;
  private color: string | undefined;
  private altText: string | undefined;

  constructor(rt: Runtime) {
    super(rt, 'TextButton');
  }

  setText(text: string): this {
    return this.update('setText', () => {
      this.text = String(text);
    });
  }

  setOnClickAction(action: GoogleAppsScript.Card_Service.Action): this {
    return this.update('setOnClickAction', () => this.click.action(action));
  }

  setOpenLink(openLink: GoogleAppsScript.Card_Service.OpenLink): this {
    return this.update('setOpenLink', () => this.click.openLink(openLink));
  }

  setOnClickOpenLinkAction(action: GoogleAppsScript.Card_Service.Action): this {
    return this.update('setOnClickOpenLinkAction', () => this.click.openLinkAction(action));
  }

  setTextButtonStyle(textButtonStyle: GoogleAppsScript.Card_Service.TextButtonStyle): this {
    return this.update('setTextButtonStyle', () => {
      this.style = checkEnum(this.rt, 'TextButtonStyle', textButtonStyle);
    });
  }

  setDisabled(disabled: boolean): this {
    return this.update('setDisabled', () => {
      this.disabled = Boolean(disabled);
    });
  }

  setBackgroundColor(backgroundColor: string): this {
    return this.update('setBackgroundColor', () => {
      this.color = String(backgroundColor);
    });
  }

  setAltText(altText: string): this {
    return this.update('setAltText', () => {
      this.altText = String(altText);
    });
  }

  buttonJson(): Json {
    if (this.text === undefined || this.text === '') throw this.rt.exception('A TextButton needs text: call setText.');
    return compact({
      text: this.text,
      onClick: this.click.onClick,
      type: this.style,
      disabled: this.disabled,
      color: this.color,
      altText: this.altText,
    });
  }

  widgetJson(): Json {
    return { buttonList: { buttons: [this.buttonJson()] } };
  }
}

export class EmulatedImageButton
  extends WidgetObject
  implements
    Subset<
      GoogleAppsScript.Card_Service.ImageButton,
      'setIcon' | 'setIconUrl' | 'setMaterialIcon' | 'setAltText' | 'setOnClickAction' | 'setOpenLink' | 'setOnClickOpenLinkAction'
    >
{
  private icon: Json | undefined;
  private altText: string | undefined;
  private readonly click = new Clickable();

  constructor(rt: Runtime) {
    super(rt, 'ImageButton');
  }

  setIcon(icon: GoogleAppsScript.Card_Service.Icon): this {
    return this.update('setIcon', () => {
      this.icon = { knownIcon: checkEnum(this.rt, 'Icon', icon) };
    });
  }

  setIconUrl(url: string): this {
    return this.update('setIconUrl', () => {
      this.icon = { iconUrl: String(url) };
    });
  }

  setMaterialIcon(icon: GoogleAppsScript.Card_Service.MaterialIcon): this {
    return this.update('setMaterialIcon', () => {
      this.icon = { materialIcon: part(icon, EmulatedMaterialIcon, 'a MaterialIcon').json() };
    });
  }

  setAltText(altText: string): this {
    return this.update('setAltText', () => {
      this.altText = String(altText);
    });
  }

  setOnClickAction(action: GoogleAppsScript.Card_Service.Action): this {
    return this.update('setOnClickAction', () => this.click.action(action));
  }

  setOpenLink(openLink: GoogleAppsScript.Card_Service.OpenLink): this {
    return this.update('setOpenLink', () => this.click.openLink(openLink));
  }

  setOnClickOpenLinkAction(action: GoogleAppsScript.Card_Service.Action): this {
    return this.update('setOnClickOpenLinkAction', () => this.click.openLinkAction(action));
  }

  buttonJson(): Json {
    if (this.icon === undefined) throw this.rt.exception('An ImageButton needs an icon: call setIcon or setIconUrl.');
    return compact({ icon: { ...this.icon, altText: this.altText }, altText: this.altText, onClick: this.click.onClick });
  }

  widgetJson(): Json {
    return { buttonList: { buttons: [this.buttonJson()] } };
  }
}

export function buttonJson(button: unknown): Json {
  if (button instanceof EmulatedTextButton || button instanceof EmulatedImageButton) return button.buttonJson();
  throw new Error('CardService emulation: expected a TextButton or ImageButton from this emulator');
}

export class EmulatedButtonSet
  extends WidgetObject
  implements Subset<GoogleAppsScript.Card_Service.ButtonSet, 'addButton'>
{
  private readonly buttons: unknown[] = [];

  constructor(rt: Runtime) {
    super(rt, 'ButtonSet');
  }

  addButton(button: GoogleAppsScript.Card_Service.Button): this {
    return this.update('addButton', () => {
      buttonJson(button);
      this.buttons.push(button);
    });
  }

  widgetJson(): Json {
    return { buttonList: { buttons: this.buttons.map(buttonJson) } };
  }
}

export class EmulatedTextParagraph
  extends WidgetObject
  implements Subset<GoogleAppsScript.Card_Service.TextParagraph, 'setText'>
{
  private text = '';

  constructor(rt: Runtime) {
    super(rt, 'TextParagraph');
  }

  setText(text: string): this {
    return this.update('setText', () => {
      this.text = String(text);
    });
  }

  widgetJson(): Json {
    return { textParagraph: { text: this.text } };
  }
}

export class EmulatedMaterialIcon
  extends CardObject
  implements Subset<GoogleAppsScript.Card_Service.MaterialIcon, 'setName' | 'setFill' | 'setWeight' | 'setGrade'>
{
  private readonly fields: Json = {};

  constructor(rt: Runtime) {
    super(rt, 'MaterialIcon');
  }

  setName(name: string): this {
    return this.update('setName', () => {
      this.fields.name = String(name);
    });
  }

  setFill(fill: boolean): this {
    return this.update('setFill', () => {
      this.fields.fill = Boolean(fill);
    });
  }

  setWeight(weight: number): this {
    return this.update('setWeight', () => {
      this.fields.weight = weight;
    });
  }

  setGrade(grade: number): this {
    return this.update('setGrade', () => {
      this.fields.grade = grade;
    });
  }

  json(): Json {
    return { ...this.fields };
  }
}

export class EmulatedIconImage
  extends CardObject
  implements
    Subset<GoogleAppsScript.Card_Service.IconImage, 'setIcon' | 'setIconUrl' | 'setAltText' | 'setImageCropType' | 'setMaterialIcon'>
{
  private icon: Json = {};
  private altText: string | undefined;
  private cropType: string | undefined;

  constructor(rt: Runtime) {
    super(rt, 'IconImage');
  }

  setIcon(icon: GoogleAppsScript.Card_Service.Icon): this {
    return this.update('setIcon', () => {
      this.icon = { knownIcon: checkEnum(this.rt, 'Icon', icon) };
    });
  }

  setIconUrl(url: string): this {
    return this.update('setIconUrl', () => {
      this.icon = { iconUrl: String(url) };
    });
  }

  setMaterialIcon(icon: GoogleAppsScript.Card_Service.MaterialIcon): this {
    return this.update('setMaterialIcon', () => {
      this.icon = { materialIcon: part(icon, EmulatedMaterialIcon, 'a MaterialIcon').json() };
    });
  }

  setAltText(altText: string): this {
    return this.update('setAltText', () => {
      this.altText = String(altText);
    });
  }

  setImageCropType(imageCropType: GoogleAppsScript.Card_Service.ImageCropType): this {
    return this.update('setImageCropType', () => {
      this.cropType = checkEnum(this.rt, 'ImageCropType', imageCropType);
    });
  }

  json(): Json {
    return compact({ ...this.icon, altText: this.altText, imageType: this.cropType });
  }
}

export class EmulatedSwitch
  extends CardObject
  implements
    Subset<GoogleAppsScript.Card_Service.Switch, 'setFieldName' | 'setValue' | 'setSelected' | 'setOnChangeAction' | 'setControlType'>
{
  private readonly fields: Json = {};

  constructor(rt: Runtime) {
    super(rt, 'Switch');
  }

  setFieldName(fieldName: string): this {
    return this.update('setFieldName', () => {
      this.fields.name = String(fieldName);
    });
  }

  setValue(value: string): this {
    return this.update('setValue', () => {
      this.fields.value = String(value);
    });
  }

  setSelected(selected: boolean): this {
    return this.update('setSelected', () => {
      this.fields.selected = Boolean(selected);
    });
  }

  setOnChangeAction(action: GoogleAppsScript.Card_Service.Action): this {
    return this.update('setOnChangeAction', () => {
      this.fields.onChangeAction = part(action, EmulatedAction, 'an Action').json();
    });
  }

  setControlType(type: GoogleAppsScript.Card_Service.SwitchControlType): this {
    return this.update('setControlType', () => {
      this.fields.controlType = checkEnum(this.rt, 'SwitchControlType', type);
    });
  }

  json(): Json {
    if (this.fields.name === undefined) throw this.rt.exception('A Switch needs a field name: call setFieldName.');
    return { ...this.fields };
  }
}

/** DecoratedText and the older KeyValue, which renders as decoratedText too. */
abstract class DecoratedBase extends WidgetObject {
  protected readonly fields: Json = {};
  protected readonly click = new Clickable();
  private button: unknown;
  private switchControl: EmulatedSwitch | undefined;

  setTopLabel(text: string): this {
    return this.update('setTopLabel', () => {
      this.fields.topLabel = String(text);
    });
  }

  setBottomLabel(text: string): this {
    return this.update('setBottomLabel', () => {
      this.fields.bottomLabel = String(text);
    });
  }

  setIcon(icon: GoogleAppsScript.Card_Service.Icon): this {
    return this.update('setIcon', () => {
      this.fields.startIcon = { knownIcon: checkEnum(this.rt, 'Icon', icon) };
    });
  }

  setIconUrl(url: string): this {
    return this.update('setIconUrl', () => {
      this.fields.startIcon = { iconUrl: String(url) };
    });
  }

  setIconAltText(altText: string): this {
    return this.update('setIconAltText', () => {
      this.fields.startIcon = { ...((this.fields.startIcon as Json | undefined) ?? {}), altText: String(altText) };
    });
  }

  setButton(button: GoogleAppsScript.Card_Service.Button): this {
    return this.update('setButton', () => {
      buttonJson(button);
      this.button = button;
    });
  }

  setOnClickAction(action: GoogleAppsScript.Card_Service.Action): this {
    return this.update('setOnClickAction', () => this.click.action(action));
  }

  setOpenLink(openLink: GoogleAppsScript.Card_Service.OpenLink): this {
    return this.update('setOpenLink', () => this.click.openLink(openLink));
  }

  setOnClickOpenLinkAction(action: GoogleAppsScript.Card_Service.Action): this {
    return this.update('setOnClickOpenLinkAction', () => this.click.openLinkAction(action));
  }

  setSwitchControl(switchToSet: GoogleAppsScript.Card_Service.Switch): this {
    return this.update('setSwitchControl', () => this.attachSwitch(switchToSet));
  }

  protected attachSwitch(switchToSet: unknown): void {
    this.switchControl = part(switchToSet, EmulatedSwitch, 'a Switch');
  }

  widgetJson(): Json {
    return {
      decoratedText: compact({
        ...this.fields,
        button: this.button === undefined ? undefined : buttonJson(this.button),
        switchControl: this.switchControl?.json(),
        onClick: this.click.onClick,
      }),
    };
  }
}

export class EmulatedDecoratedText
  extends DecoratedBase
  implements
    Subset<
      GoogleAppsScript.Card_Service.DecoratedText,
      | 'setText'
      | 'setTopLabel'
      | 'setBottomLabel'
      | 'setWrapText'
      | 'setIcon'
      | 'setIconUrl'
      | 'setIconAltText'
      | 'setStartIcon'
      | 'setEndIcon'
      | 'setButton'
      | 'setOnClickAction'
      | 'setOpenLink'
      | 'setOnClickOpenLinkAction'
      | 'setSwitchControl'
    >
{
  constructor(rt: Runtime) {
    super(rt, 'DecoratedText');
  }

  setText(text: string): this {
    return this.update('setText', () => {
      this.fields.text = String(text);
    });
  }

  setWrapText(wrapText: boolean): this {
    return this.update('setWrapText', () => {
      this.fields.wrapText = Boolean(wrapText);
    });
  }

  setStartIcon(startIcon: GoogleAppsScript.Card_Service.IconImage): this {
    return this.update('setStartIcon', () => {
      this.fields.startIcon = part(startIcon, EmulatedIconImage, 'an IconImage').json();
    });
  }

  setEndIcon(endIcon: GoogleAppsScript.Card_Service.IconImage): this {
    return this.update('setEndIcon', () => {
      this.fields.endIcon = part(endIcon, EmulatedIconImage, 'an IconImage').json();
    });
  }

  override widgetJson(): Json {
    if (this.fields.text === undefined) throw this.rt.exception('A DecoratedText needs text: call setText.');
    return super.widgetJson();
  }
}

export class EmulatedKeyValue
  extends DecoratedBase
  implements
    Subset<
      GoogleAppsScript.Card_Service.KeyValue,
      | 'setContent'
      | 'setTopLabel'
      | 'setBottomLabel'
      | 'setMultiline'
      | 'setIcon'
      | 'setIconUrl'
      | 'setIconAltText'
      | 'setButton'
      | 'setOnClickAction'
      | 'setOpenLink'
      | 'setOnClickOpenLinkAction'
      | 'setSwitch'
    >
{
  constructor(rt: Runtime) {
    super(rt, 'KeyValue');
  }

  setContent(text: string): this {
    return this.update('setContent', () => {
      this.fields.text = String(text);
    });
  }

  setMultiline(multiline: boolean): this {
    return this.update('setMultiline', () => {
      this.fields.wrapText = Boolean(multiline);
    });
  }

  setSwitch(switchToSet: GoogleAppsScript.Card_Service.Switch): this {
    return this.update('setSwitch', () => this.attachSwitch(switchToSet));
  }

  override widgetJson(): Json {
    if (this.fields.text === undefined) throw this.rt.exception('A KeyValue needs content: call setContent.');
    return super.widgetJson();
  }
}

export class EmulatedTextInput
  extends WidgetObject
  implements
    Subset<
      GoogleAppsScript.Card_Service.TextInput,
      'setFieldName' | 'setTitle' | 'setHint' | 'setValue' | 'setMultiline' | 'setOnChangeAction'
    >
{
  private readonly fields: Json = {};

  constructor(rt: Runtime) {
    super(rt, 'TextInput');
  }

  setFieldName(fieldName: string): this {
    return this.update('setFieldName', () => {
      this.fields.name = String(fieldName);
    });
  }

  setTitle(title: string): this {
    return this.update('setTitle', () => {
      this.fields.label = String(title);
    });
  }

  setHint(hint: string): this {
    return this.update('setHint', () => {
      this.fields.hintText = String(hint);
    });
  }

  setValue(value: string): this {
    return this.update('setValue', () => {
      this.fields.value = String(value);
    });
  }

  setMultiline(multiline: boolean): this {
    return this.update('setMultiline', () => {
      this.fields.type = multiline ? 'MULTIPLE_LINE' : 'SINGLE_LINE';
    });
  }

  setOnChangeAction(action: GoogleAppsScript.Card_Service.Action): this {
    return this.update('setOnChangeAction', () => {
      this.fields.onChangeAction = part(action, EmulatedAction, 'an Action').json();
    });
  }

  widgetJson(): Json {
    if (this.fields.name === undefined) throw this.rt.exception('A TextInput needs a field name: call setFieldName.');
    return { textInput: { ...this.fields } };
  }
}

export class EmulatedSelectionInput
  extends WidgetObject
  implements
    Subset<GoogleAppsScript.Card_Service.SelectionInput, 'setFieldName' | 'setTitle' | 'setType' | 'addItem' | 'setOnChangeAction'>
{
  private name: string | undefined;
  private label: string | undefined;
  // Apps Script's default selection type is a list of check boxes.
  private type = 'CHECK_BOX';
  private readonly items: { text: string; value: string; selected: boolean }[] = [];
  private onChangeAction: Json | undefined;

  constructor(rt: Runtime) {
    super(rt, 'SelectionInput');
  }

  setFieldName(fieldName: string): this {
    return this.update('setFieldName', () => {
      this.name = String(fieldName);
    });
  }

  setTitle(title: string): this {
    return this.update('setTitle', () => {
      this.label = String(title);
    });
  }

  setType(type: GoogleAppsScript.Card_Service.SelectionInputType): this {
    return this.update('setType', () => {
      this.type = checkEnum(this.rt, 'SelectionInputType', type);
    });
  }

  addItem(text: unknown, value: unknown, selected: boolean): this {
    return this.update('addItem', () => {
      this.items.push({ text: String(text), value: String(value), selected: Boolean(selected) });
    });
  }

  setOnChangeAction(action: GoogleAppsScript.Card_Service.Action): this {
    return this.update('setOnChangeAction', () => {
      this.onChangeAction = part(action, EmulatedAction, 'an Action').json();
    });
  }

  widgetJson(): Json {
    if (this.name === undefined) throw this.rt.exception('A SelectionInput needs a field name: call setFieldName.');
    return {
      selectionInput: compact({
        name: this.name,
        label: this.label,
        type: this.type,
        items: this.items.map((item) => ({ ...item })),
        onChangeAction: this.onChangeAction,
      }),
    };
  }
}

export class EmulatedDivider extends WidgetObject {
  constructor(rt: Runtime) {
    super(rt, 'Divider');
  }

  widgetJson(): Json {
    return { divider: {} };
  }
}

export class EmulatedImage
  extends WidgetObject
  implements Subset<GoogleAppsScript.Card_Service.Image, 'setImageUrl' | 'setAltText' | 'setOnClickAction' | 'setOpenLink'>
{
  private readonly fields: Json = {};
  private readonly click = new Clickable();

  constructor(rt: Runtime) {
    super(rt, 'Image');
  }

  setImageUrl(url: string): this {
    return this.update('setImageUrl', () => {
      this.fields.imageUrl = String(url);
    });
  }

  setAltText(altText: string): this {
    return this.update('setAltText', () => {
      this.fields.altText = String(altText);
    });
  }

  setOnClickAction(action: GoogleAppsScript.Card_Service.Action): this {
    return this.update('setOnClickAction', () => this.click.action(action));
  }

  setOpenLink(openLink: GoogleAppsScript.Card_Service.OpenLink): this {
    return this.update('setOpenLink', () => this.click.openLink(openLink));
  }

  widgetJson(): Json {
    if (this.fields.imageUrl === undefined) throw this.rt.exception('An Image needs a URL: call setImageUrl.');
    return { image: compact({ ...this.fields, onClick: this.click.onClick }) };
  }
}

export class EmulatedImageComponent
  extends CardObject
  implements Subset<GoogleAppsScript.Card_Service.ImageComponent, 'setImageUrl' | 'setAltText'>
{
  private readonly fields: Json = {};

  constructor(rt: Runtime) {
    super(rt, 'ImageComponent');
  }

  setImageUrl(url: string): this {
    return this.update('setImageUrl', () => {
      this.fields.imageUri = String(url);
    });
  }

  setAltText(altText: string): this {
    return this.update('setAltText', () => {
      this.fields.altText = String(altText);
    });
  }

  json(): Json {
    return { ...this.fields };
  }
}

export class EmulatedGridItem
  extends CardObject
  implements
    Subset<
      GoogleAppsScript.Card_Service.GridItem,
      'setIdentifier' | 'setTitle' | 'setSubtitle' | 'setImage' | 'setTextAlignment' | 'setLayout'
    >
{
  private readonly fields: Json = {};

  constructor(rt: Runtime) {
    super(rt, 'GridItem');
  }

  setIdentifier(id: string): this {
    return this.update('setIdentifier', () => {
      this.fields.id = String(id);
    });
  }

  setTitle(title: string): this {
    return this.update('setTitle', () => {
      this.fields.title = String(title);
    });
  }

  setSubtitle(subtitle: string): this {
    return this.update('setSubtitle', () => {
      this.fields.subtitle = String(subtitle);
    });
  }

  setImage(image: GoogleAppsScript.Card_Service.ImageComponent): this {
    return this.update('setImage', () => {
      this.fields.image = part(image, EmulatedImageComponent, 'an ImageComponent').json();
    });
  }

  setTextAlignment(alignment: GoogleAppsScript.Card_Service.HorizontalAlignment): this {
    return this.update('setTextAlignment', () => {
      this.fields.textAlignment = checkEnum(this.rt, 'HorizontalAlignment', alignment);
    });
  }

  setLayout(layout: GoogleAppsScript.Card_Service.GridItemLayout): this {
    return this.update('setLayout', () => {
      this.fields.layout = checkEnum(this.rt, 'GridItemLayout', layout);
    });
  }

  json(): Json {
    return { ...this.fields };
  }
}

export class EmulatedGrid
  extends WidgetObject
  implements
    Subset<GoogleAppsScript.Card_Service.Grid, 'setTitle' | 'addItem' | 'setNumColumns' | 'setOnClickAction' | 'setOpenLink'>
{
  private title: string | undefined;
  private columnCount: number | undefined;
  private readonly items: EmulatedGridItem[] = [];
  private readonly click = new Clickable();

  constructor(rt: Runtime) {
    super(rt, 'Grid');
  }

  setTitle(title: string): this {
    return this.update('setTitle', () => {
      this.title = String(title);
    });
  }

  addItem(gridItem: GoogleAppsScript.Card_Service.GridItem): this {
    return this.update('addItem', () => {
      this.items.push(part(gridItem, EmulatedGridItem, 'a GridItem'));
    });
  }

  setNumColumns(numColumns: number): this {
    return this.update('setNumColumns', () => {
      this.columnCount = numColumns;
    });
  }

  setOnClickAction(action: GoogleAppsScript.Card_Service.Action): this {
    return this.update('setOnClickAction', () => this.click.action(action));
  }

  setOpenLink(openLink: GoogleAppsScript.Card_Service.OpenLink): this {
    return this.update('setOpenLink', () => this.click.openLink(openLink));
  }

  widgetJson(): Json {
    return {
      grid: compact({
        title: this.title,
        columnCount: this.columnCount,
        items: this.items.map((item) => item.json()),
        onClick: this.click.onClick,
      }),
    };
  }
}
