/**
 * Turns card data (Google's add-on card JSON shape, built by the core) into CardService
 * builders. This is the only place the add-on touches CardService widgets.
 */
import type { Button, Card, CardSection, Widget } from '../core/cards';

type Builder = GoogleAppsScript.Card_Service.CardBuilder;

function action(button: Button): GoogleAppsScript.Card_Service.Action {
  const parameters: Record<string, string> = {};
  for (const parameter of button.onClick.action.parameters) parameters[parameter.key] = parameter.value;
  return CardService.newAction().setFunctionName(button.onClick.action.function).setParameters(parameters);
}

function textButton(button: Button): GoogleAppsScript.Card_Service.TextButton {
  return CardService.newTextButton()
    .setText(button.text)
    .setTextButtonStyle(
      button.type === 'FILLED' ? CardService.TextButtonStyle.FILLED : CardService.TextButtonStyle.OUTLINED,
    )
    .setOnClickAction(action(button));
}

/** Card text is plain; CardService reads a small HTML subset, so markup characters are escaped. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function knownIcon(name: string): GoogleAppsScript.Card_Service.Icon | null {
  const icons = CardService.Icon as unknown as Record<string, GoogleAppsScript.Card_Service.Icon>;
  return icons[name] ?? null;
}

function widget(section: GoogleAppsScript.Card_Service.CardSection, item: Widget): void {
  if ('textParagraph' in item) {
    section.addWidget(CardService.newTextParagraph().setText(escape(item.textParagraph.text)));
  } else if ('decoratedText' in item) {
    const data = item.decoratedText;
    const text = CardService.newDecoratedText().setText(escape(data.text)).setWrapText(data.wrapText ?? true);
    if (data.topLabel !== undefined) text.setTopLabel(escape(data.topLabel));
    if (data.bottomLabel !== undefined) text.setBottomLabel(escape(data.bottomLabel));
    const icon = data.startIcon === undefined ? null : knownIcon(data.startIcon.knownIcon);
    if (icon !== null) text.setStartIcon(CardService.newIconImage().setIcon(icon));
    if (data.button !== undefined) text.setButton(textButton(data.button));
    section.addWidget(text);
  } else if ('buttonList' in item) {
    const set = CardService.newButtonSet();
    for (const button of item.buttonList.buttons) set.addButton(textButton(button));
    section.addWidget(set);
  } else if ('textInput' in item) {
    const input = CardService.newTextInput()
      .setFieldName(item.textInput.name)
      .setTitle(item.textInput.label)
      .setMultiline(item.textInput.type === 'MULTIPLE_LINE');
    if (item.textInput.hintText !== undefined) input.setHint(item.textInput.hintText);
    section.addWidget(input);
  } else if ('selectionInput' in item) {
    const input = CardService.newSelectionInput()
      .setType(CardService.SelectionInputType.DROPDOWN)
      .setFieldName(item.selectionInput.name)
      .setTitle(item.selectionInput.label);
    for (const option of item.selectionInput.items) input.addItem(option.text, option.value, option.selected);
    section.addWidget(input);
  } else {
    section.addWidget(CardService.newDivider());
  }
}

function sectionOf(data: CardSection): GoogleAppsScript.Card_Service.CardSection {
  const section = CardService.newCardSection();
  if (data.header !== undefined) section.setHeader(escape(data.header));
  if (data.collapsible === true) {
    section.setCollapsible(true);
    if (data.uncollapsibleWidgetsCount !== undefined) {
      section.setNumUncollapsibleWidgets(data.uncollapsibleWidgetsCount);
    }
  }
  for (const item of data.widgets) widget(section, item);
  return section;
}

export function renderCard(card: Card): GoogleAppsScript.Card_Service.Card {
  const builder: Builder = CardService.newCardBuilder().setHeader(
    CardService.newCardHeader()
      .setTitle(escape(card.header.title))
      .setSubtitle(escape(card.header.subtitle ?? '')),
  );
  for (const section of card.sections) builder.addSection(sectionOf(section));
  if (card.fixedFooter !== undefined) {
    const footer = CardService.newFixedFooter().setPrimaryButton(textButton(card.fixedFooter.primaryButton));
    if (card.fixedFooter.secondaryButton !== undefined) {
      footer.setSecondaryButton(textButton(card.fixedFooter.secondaryButton));
    }
    builder.setFixedFooter(footer);
  }
  return builder.build();
}

/** The response to a card action: the toast and the updated card in place of the current one. */
export function renderResponse(card: Card, toast: string): GoogleAppsScript.Card_Service.ActionResponse {
  const response = CardService.newActionResponseBuilder().setNavigation(
    CardService.newNavigation().updateCard(renderCard(card)),
  );
  if (toast !== '') response.setNotification(CardService.newNotification().setText(toast));
  return response.build();
}
