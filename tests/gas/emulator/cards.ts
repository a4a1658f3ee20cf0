/**
 * The emulated CardService: the builders a Gmail add-on uses. Each builder records what was set.
 * `printJson()` of a built Card or ActionResponse returns it in the shape of Google's add-on card
 * JSON (google.apps.card.v1: header, sections, widgets such as textParagraph, decoratedText,
 * buttonList, textInput and selectionInput, fixedFooter). So tests can compare it with the cards
 * the core builds as data. Fields that were never set are left out.
 */
import {
  CARD_ENUMS,
  CardObject,
  Clickable,
  checkEnum,
  compact,
  EmulatedAction,
  EmulatedButtonSet,
  EmulatedDecoratedText,
  EmulatedDivider,
  EmulatedGrid,
  EmulatedGridItem,
  EmulatedIconImage,
  EmulatedImage,
  EmulatedImageButton,
  EmulatedImageComponent,
  EmulatedKeyValue,
  EmulatedMaterialIcon,
  EmulatedOpenLink,
  EmulatedSelectionInput,
  EmulatedSwitch,
  EmulatedTextButton,
  EmulatedTextInput,
  EmulatedTextParagraph,
  part,
  SECTION_LIMIT,
  WIDGET_LIMIT,
  WidgetObject,
  type Json,
} from './card-widgets';
import type { Runtime, Subset } from './runtime';

export { CARD_CLASS_NAMES, CARD_ENUMS } from './card-widgets';

export class EmulatedCardSection
  extends CardObject
  implements
    Subset<GoogleAppsScript.Card_Service.CardSection, 'addWidget' | 'setHeader' | 'setCollapsible' | 'setNumUncollapsibleWidgets'>
{
  private header: string | undefined;
  private collapsible: boolean | undefined;
  private uncollapsible: number | undefined;
  private readonly widgets: WidgetObject[] = [];

  constructor(rt: Runtime) {
    super(rt, 'CardSection');
  }

  addWidget(widget: GoogleAppsScript.Card_Service.Widget): this {
    return this.update('addWidget', () => {
      const checked = part(widget, WidgetObject, 'a widget');
      if (this.widgets.length >= WIDGET_LIMIT) throw this.rt.exception(`A card section holds at most ${WIDGET_LIMIT} widgets.`);
      this.widgets.push(checked);
    });
  }

  setHeader(header: string): this {
    return this.update('setHeader', () => {
      this.header = String(header);
    });
  }

  setCollapsible(collapsible: boolean): this {
    return this.update('setCollapsible', () => {
      this.collapsible = Boolean(collapsible);
    });
  }

  setNumUncollapsibleWidgets(numUncollapsibleWidgets: number): this {
    return this.update('setNumUncollapsibleWidgets', () => {
      this.uncollapsible = numUncollapsibleWidgets;
    });
  }

  json(): Json {
    if (this.widgets.length === 0) throw this.rt.exception('A card section needs at least one widget.');
    return compact({
      header: this.header,
      collapsible: this.collapsible,
      uncollapsibleWidgetsCount: this.uncollapsible,
      widgets: this.widgets.map((widget) => widget.widgetJson()),
    });
  }
}

export class EmulatedCardHeader
  extends CardObject
  implements
    Subset<GoogleAppsScript.Card_Service.CardHeader, 'setTitle' | 'setSubtitle' | 'setImageUrl' | 'setImageStyle' | 'setImageAltText'>
{
  private readonly fields: Json = {};

  constructor(rt: Runtime) {
    super(rt, 'CardHeader');
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

  setImageUrl(imageUrl: string): this {
    return this.update('setImageUrl', () => {
      this.fields.imageUrl = String(imageUrl);
    });
  }

  setImageStyle(imageStyle: GoogleAppsScript.Card_Service.ImageStyle): this {
    return this.update('setImageStyle', () => {
      this.fields.imageType = checkEnum(this.rt, 'ImageStyle', imageStyle);
    });
  }

  setImageAltText(imageAltText: string): this {
    return this.update('setImageAltText', () => {
      this.fields.imageAltText = String(imageAltText);
    });
  }

  json(): Json {
    if (this.fields.title === undefined) throw this.rt.exception('A card header needs a title: call setTitle.');
    return { ...this.fields };
  }
}

export class EmulatedCardAction
  extends CardObject
  implements Subset<GoogleAppsScript.Card_Service.CardAction, 'setText' | 'setOnClickAction' | 'setOpenLink'>
{
  private text: string | undefined;
  private readonly click = new Clickable();

  constructor(rt: Runtime) {
    super(rt, 'CardAction');
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

  json(): Json {
    if (this.text === undefined) throw this.rt.exception('A CardAction needs text: call setText.');
    return compact({ actionLabel: this.text, onClick: this.click.onClick });
  }
}

export class EmulatedFixedFooter
  extends CardObject
  implements Subset<GoogleAppsScript.Card_Service.FixedFooter, 'setPrimaryButton' | 'setSecondaryButton'>
{
  private primary: EmulatedTextButton | undefined;
  private secondary: EmulatedTextButton | undefined;

  constructor(rt: Runtime) {
    super(rt, 'FixedFooter');
  }

  setPrimaryButton(button: GoogleAppsScript.Card_Service.TextButton): this {
    return this.update('setPrimaryButton', () => {
      this.primary = part(button, EmulatedTextButton, 'a TextButton');
    });
  }

  setSecondaryButton(button: GoogleAppsScript.Card_Service.TextButton): this {
    return this.update('setSecondaryButton', () => {
      this.secondary = part(button, EmulatedTextButton, 'a TextButton');
    });
  }

  json(): Json {
    if (this.primary === undefined) throw this.rt.exception('A fixed footer needs a primary button.');
    return compact({ primaryButton: this.primary.buttonJson(), secondaryButton: this.secondary?.buttonJson() });
  }
}

/** A built card: its JSON is fixed when build() runs. */
export class EmulatedCard extends CardObject implements Subset<GoogleAppsScript.Card_Service.Card, 'printJson'> {
  constructor(
    rt: Runtime,
    private readonly data: Json,
  ) {
    super(rt, 'Card');
  }

  printJson(): string {
    return this.call('printJson', () => JSON.stringify(this.data, null, 2));
  }

  /** The card JSON as an object, for tests; not an Apps Script method. */
  toJSON(): Json {
    return structuredClone(this.data);
  }
}

export class EmulatedCardBuilder
  extends CardObject
  implements
    Subset<
      GoogleAppsScript.Card_Service.CardBuilder,
      'setHeader' | 'addSection' | 'setName' | 'setFixedFooter' | 'addCardAction' | 'setDisplayStyle' | 'setPeekCardHeader' | 'build'
    >
{
  private header: EmulatedCardHeader | undefined;
  private peekHeader: EmulatedCardHeader | undefined;
  private name: string | undefined;
  private footer: EmulatedFixedFooter | undefined;
  private displayStyle: string | undefined;
  private readonly sections: EmulatedCardSection[] = [];
  private readonly cardActions: EmulatedCardAction[] = [];

  constructor(rt: Runtime) {
    super(rt, 'CardBuilder');
  }

  setHeader(cardHeader: GoogleAppsScript.Card_Service.CardHeader): this {
    return this.update('setHeader', () => {
      this.header = part(cardHeader, EmulatedCardHeader, 'a CardHeader');
    });
  }

  setPeekCardHeader(peekCardHeader: GoogleAppsScript.Card_Service.CardHeader): this {
    return this.update('setPeekCardHeader', () => {
      this.peekHeader = part(peekCardHeader, EmulatedCardHeader, 'a CardHeader');
    });
  }

  addSection(section: GoogleAppsScript.Card_Service.CardSection): this {
    return this.update('addSection', () => {
      const checked = part(section, EmulatedCardSection, 'a CardSection');
      if (this.sections.length >= SECTION_LIMIT) throw this.rt.exception(`A card holds at most ${SECTION_LIMIT} sections.`);
      this.sections.push(checked);
    });
  }

  setName(name: string): this {
    return this.update('setName', () => {
      this.name = String(name);
    });
  }

  setFixedFooter(fixedFooter: GoogleAppsScript.Card_Service.FixedFooter): this {
    return this.update('setFixedFooter', () => {
      this.footer = part(fixedFooter, EmulatedFixedFooter, 'a FixedFooter');
    });
  }

  addCardAction(cardAction: GoogleAppsScript.Card_Service.CardAction): this {
    return this.update('addCardAction', () => {
      this.cardActions.push(part(cardAction, EmulatedCardAction, 'a CardAction'));
    });
  }

  setDisplayStyle(displayStyle: GoogleAppsScript.Card_Service.DisplayStyle): this {
    return this.update('setDisplayStyle', () => {
      this.displayStyle = checkEnum(this.rt, 'DisplayStyle', displayStyle);
    });
  }

  build(): EmulatedCard {
    return this.call('build', () => {
      if (this.sections.length === 0) throw this.rt.exception('A card needs at least one section.');
      const data = compact({
        name: this.name,
        header: this.header?.json(),
        sections: this.sections.map((section) => section.json()),
        cardActions: this.cardActions.length > 0 ? this.cardActions.map((action) => action.json()) : undefined,
        fixedFooter: this.footer?.json(),
        displayStyle: this.displayStyle,
        peekCardHeader: this.peekHeader?.json(),
      });
      return new EmulatedCard(this.rt, data);
    });
  }
}

export class EmulatedNotification
  extends CardObject
  implements Subset<GoogleAppsScript.Card_Service.Notification, 'setText'>
{
  private text: string | undefined;

  constructor(rt: Runtime) {
    super(rt, 'Notification');
  }

  setText(text: string): this {
    return this.update('setText', () => {
      this.text = String(text);
    });
  }

  json(): Json {
    if (this.text === undefined) throw this.rt.exception('A Notification needs text: call setText.');
    return { text: this.text };
  }
}

export class EmulatedNavigation
  extends CardObject
  implements
    Subset<
      GoogleAppsScript.Card_Service.Navigation,
      'pushCard' | 'updateCard' | 'popCard' | 'popToRoot' | 'popToNamedCard' | 'printJson'
    >
{
  private readonly steps: Json[] = [];

  constructor(rt: Runtime) {
    super(rt, 'Navigation');
  }

  pushCard(card: GoogleAppsScript.Card_Service.Card): this {
    return this.update('pushCard', () => {
      this.steps.push({ pushCard: part(card, EmulatedCard, 'a Card').toJSON() });
    });
  }

  updateCard(card: GoogleAppsScript.Card_Service.Card): this {
    return this.update('updateCard', () => {
      this.steps.push({ updateCard: part(card, EmulatedCard, 'a Card').toJSON() });
    });
  }

  popCard(): this {
    return this.update('popCard', () => {
      this.steps.push({ popCard: true });
    });
  }

  popToRoot(): this {
    return this.update('popToRoot', () => {
      this.steps.push({ popToRoot: true });
    });
  }

  popToNamedCard(cardName: string): this {
    return this.update('popToNamedCard', () => {
      this.steps.push({ popToCard: String(cardName) });
    });
  }

  printJson(): string {
    return this.call('printJson', () => JSON.stringify({ navigations: this.json() }, null, 2));
  }

  json(): Json[] {
    return structuredClone(this.steps);
  }
}

/** A built action response: `{renderActions: {action: {navigations, notification, link}}}`. */
export class EmulatedActionResponse
  extends CardObject
  implements Subset<GoogleAppsScript.Card_Service.ActionResponse, 'printJson'>
{
  constructor(
    rt: Runtime,
    kind: string,
    private readonly data: Json,
  ) {
    super(rt, kind);
  }

  printJson(): string {
    return this.call('printJson', () => JSON.stringify(this.data, null, 2));
  }

  /** The response JSON as an object, for tests; not an Apps Script method. */
  toJSON(): Json {
    return structuredClone(this.data);
  }
}

export class EmulatedActionResponseBuilder
  extends CardObject
  implements
    Subset<
      GoogleAppsScript.Card_Service.ActionResponseBuilder,
      'setNavigation' | 'setNotification' | 'setOpenLink' | 'setStateChanged' | 'build'
    >
{
  private navigation: EmulatedNavigation | undefined;
  private notification: EmulatedNotification | undefined;
  private link: EmulatedOpenLink | undefined;
  private stateChanged: boolean | undefined;

  constructor(rt: Runtime) {
    super(rt, 'ActionResponseBuilder');
  }

  setNavigation(navigation: GoogleAppsScript.Card_Service.Navigation): this {
    return this.update('setNavigation', () => {
      this.navigation = part(navigation, EmulatedNavigation, 'a Navigation');
    });
  }

  setNotification(notification: GoogleAppsScript.Card_Service.Notification): this {
    return this.update('setNotification', () => {
      this.notification = part(notification, EmulatedNotification, 'a Notification');
    });
  }

  setOpenLink(openLink: GoogleAppsScript.Card_Service.OpenLink): this {
    return this.update('setOpenLink', () => {
      this.link = part(openLink, EmulatedOpenLink, 'an OpenLink');
    });
  }

  setStateChanged(stateChanged: boolean): this {
    return this.update('setStateChanged', () => {
      this.stateChanged = Boolean(stateChanged);
    });
  }

  build(): EmulatedActionResponse {
    return this.call('build', () => {
      const action = compact({
        navigations: this.navigation?.json(),
        notification: this.notification?.json(),
        link: this.link?.json(),
      });
      if (Object.keys(action).length === 0) {
        throw this.rt.exception('An action response needs a navigation, a notification or a link.');
      }
      return new EmulatedActionResponse(this.rt, 'ActionResponse', compact({ renderActions: { action }, stateChanged: this.stateChanged }));
    });
  }
}

export class EmulatedUniversalActionResponseBuilder
  extends CardObject
  implements Subset<GoogleAppsScript.Card_Service.UniversalActionResponseBuilder, 'displayAddOnCards' | 'setOpenLink' | 'build'>
{
  private cards: Json[] | undefined;
  private link: EmulatedOpenLink | undefined;

  constructor(rt: Runtime) {
    super(rt, 'UniversalActionResponseBuilder');
  }

  displayAddOnCards(cardObjects: GoogleAppsScript.Card_Service.Card[]): this {
    return this.update('displayAddOnCards', () => {
      this.cards = Array.from(cardObjects, (card) => part(card, EmulatedCard, 'a Card').toJSON());
    });
  }

  setOpenLink(openLink: GoogleAppsScript.Card_Service.OpenLink): this {
    return this.update('setOpenLink', () => {
      this.link = part(openLink, EmulatedOpenLink, 'an OpenLink');
    });
  }

  build(): EmulatedActionResponse {
    return this.call('build', () => {
      const action = compact({
        navigations: this.cards?.map((card) => ({ pushCard: card })),
        link: this.link?.json(),
      });
      return new EmulatedActionResponse(this.rt, 'UniversalActionResponse', { renderActions: { action } });
    });
  }
}

type CardServiceApi = GoogleAppsScript.Card_Service.CardService;

export class EmulatedCardService
  implements
    Subset<
      CardServiceApi,
      | 'newAction'
      | 'newActionResponseBuilder'
      | 'newButtonSet'
      | 'newCardAction'
      | 'newCardBuilder'
      | 'newCardHeader'
      | 'newCardSection'
      | 'newDecoratedText'
      | 'newDivider'
      | 'newFixedFooter'
      | 'newGrid'
      | 'newGridItem'
      | 'newIconImage'
      | 'newImage'
      | 'newImageButton'
      | 'newImageComponent'
      | 'newKeyValue'
      | 'newMaterialIcon'
      | 'newNavigation'
      | 'newNotification'
      | 'newOpenLink'
      | 'newSelectionInput'
      | 'newSwitch'
      | 'newTextButton'
      | 'newTextInput'
      | 'newTextParagraph'
      | 'newUniversalActionResponseBuilder'
    >
{
  readonly TextButtonStyle = CARD_ENUMS.TextButtonStyle;
  readonly SelectionInputType = CARD_ENUMS.SelectionInputType;
  readonly OnClose = CARD_ENUMS.OnClose;
  readonly OpenAs = CARD_ENUMS.OpenAs;
  readonly ImageStyle = CARD_ENUMS.ImageStyle;
  readonly ImageCropType = CARD_ENUMS.ImageCropType;
  readonly LoadIndicator = CARD_ENUMS.LoadIndicator;
  readonly DisplayStyle = CARD_ENUMS.DisplayStyle;
  readonly GridItemLayout = CARD_ENUMS.GridItemLayout;
  readonly HorizontalAlignment = CARD_ENUMS.HorizontalAlignment;
  readonly SwitchControlType = CARD_ENUMS.SwitchControlType;
  readonly InputType = CARD_ENUMS.InputType;
  readonly BorderType = CARD_ENUMS.BorderType;
  readonly Interaction = CARD_ENUMS.Interaction;
  readonly ComposedEmailType = CARD_ENUMS.ComposedEmailType;
  readonly ContentType = CARD_ENUMS.ContentType;
  readonly UpdateDraftBodyType = CARD_ENUMS.UpdateDraftBodyType;
  readonly Icon = CARD_ENUMS.Icon;

  constructor(private readonly rt: Runtime) {}

  private make<T>(method: string, create: () => T): T {
    return this.rt.track(`CardService.${method}`, create);
  }

  newAction(): EmulatedAction {
    return this.make('newAction', () => new EmulatedAction(this.rt));
  }

  newActionResponseBuilder(): EmulatedActionResponseBuilder {
    return this.make('newActionResponseBuilder', () => new EmulatedActionResponseBuilder(this.rt));
  }

  newButtonSet(): EmulatedButtonSet {
    return this.make('newButtonSet', () => new EmulatedButtonSet(this.rt));
  }

  newCardAction(): EmulatedCardAction {
    return this.make('newCardAction', () => new EmulatedCardAction(this.rt));
  }

  newCardBuilder(): EmulatedCardBuilder {
    return this.make('newCardBuilder', () => new EmulatedCardBuilder(this.rt));
  }

  newCardHeader(): EmulatedCardHeader {
    return this.make('newCardHeader', () => new EmulatedCardHeader(this.rt));
  }

  newCardSection(): EmulatedCardSection {
    return this.make('newCardSection', () => new EmulatedCardSection(this.rt));
  }

  newDecoratedText(): EmulatedDecoratedText {
    return this.make('newDecoratedText', () => new EmulatedDecoratedText(this.rt));
  }

  newDivider(): EmulatedDivider {
    return this.make('newDivider', () => new EmulatedDivider(this.rt));
  }

  newFixedFooter(): EmulatedFixedFooter {
    return this.make('newFixedFooter', () => new EmulatedFixedFooter(this.rt));
  }

  newGrid(): EmulatedGrid {
    return this.make('newGrid', () => new EmulatedGrid(this.rt));
  }

  newGridItem(): EmulatedGridItem {
    return this.make('newGridItem', () => new EmulatedGridItem(this.rt));
  }

  newIconImage(): EmulatedIconImage {
    return this.make('newIconImage', () => new EmulatedIconImage(this.rt));
  }

  newImage(): EmulatedImage {
    return this.make('newImage', () => new EmulatedImage(this.rt));
  }

  newImageButton(): EmulatedImageButton {
    return this.make('newImageButton', () => new EmulatedImageButton(this.rt));
  }

  newImageComponent(): EmulatedImageComponent {
    return this.make('newImageComponent', () => new EmulatedImageComponent(this.rt));
  }

  newKeyValue(): EmulatedKeyValue {
    return this.make('newKeyValue', () => new EmulatedKeyValue(this.rt));
  }

  newMaterialIcon(): EmulatedMaterialIcon {
    return this.make('newMaterialIcon', () => new EmulatedMaterialIcon(this.rt));
  }

  newNavigation(): EmulatedNavigation {
    return this.make('newNavigation', () => new EmulatedNavigation(this.rt));
  }

  newNotification(): EmulatedNotification {
    return this.make('newNotification', () => new EmulatedNotification(this.rt));
  }

  newOpenLink(): EmulatedOpenLink {
    return this.make('newOpenLink', () => new EmulatedOpenLink(this.rt));
  }

  newSelectionInput(): EmulatedSelectionInput {
    return this.make('newSelectionInput', () => new EmulatedSelectionInput(this.rt));
  }

  newSwitch(): EmulatedSwitch {
    return this.make('newSwitch', () => new EmulatedSwitch(this.rt));
  }

  newTextButton(): EmulatedTextButton {
    return this.make('newTextButton', () => new EmulatedTextButton(this.rt));
  }

  newTextInput(): EmulatedTextInput {
    return this.make('newTextInput', () => new EmulatedTextInput(this.rt));
  }

  newTextParagraph(): EmulatedTextParagraph {
    return this.make('newTextParagraph', () => new EmulatedTextParagraph(this.rt));
  }

  newUniversalActionResponseBuilder(): EmulatedUniversalActionResponseBuilder {
    return this.make('newUniversalActionResponseBuilder', () => new EmulatedUniversalActionResponseBuilder(this.rt));
  }
}

