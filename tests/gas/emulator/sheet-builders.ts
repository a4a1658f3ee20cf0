/**
 * The builder objects of the emulated SpreadsheetApp: data validation rules and embedded charts.
 */
import type { ValidationRule } from './cells';
import type { Runtime, Subset } from './runtime';

type DataValidationApi = GoogleAppsScript.Spreadsheet.DataValidation;
type DataValidationBuilderApi = GoogleAppsScript.Spreadsheet.DataValidationBuilder;
type ChartBuilderApi = GoogleAppsScript.Spreadsheet.EmbeddedChartBuilder;
type ChartApi = GoogleAppsScript.Spreadsheet.EmbeddedChart;

/** SpreadsheetApp.DataValidationCriteria, as names. */
export const DATA_VALIDATION_CRITERIA = Object.freeze(
  Object.fromEntries(
    [
      'DATE_AFTER',
      'DATE_BEFORE',
      'DATE_BETWEEN',
      'DATE_EQUAL_TO',
      'DATE_IS_VALID_DATE',
      'DATE_NOT_BETWEEN',
      'DATE_ON_OR_AFTER',
      'DATE_ON_OR_BEFORE',
      'NUMBER_BETWEEN',
      'NUMBER_EQUAL_TO',
      'NUMBER_GREATER_THAN',
      'NUMBER_GREATER_THAN_OR_EQUAL_TO',
      'NUMBER_LESS_THAN',
      'NUMBER_LESS_THAN_OR_EQUAL_TO',
      'NUMBER_NOT_BETWEEN',
      'NUMBER_NOT_EQUAL_TO',
      'TEXT_CONTAINS',
      'TEXT_DOES_NOT_CONTAIN',
      'TEXT_EQUAL_TO',
      'TEXT_IS_VALID_EMAIL',
      'TEXT_IS_VALID_URL',
      'VALUE_IN_LIST',
      'VALUE_IN_RANGE',
      'CUSTOM_FORMULA',
      'CHECKBOX',
    ].map((name) => [name, name]),
  ),
);

export class EmulatedDataValidation
  implements Subset<DataValidationApi, 'getAllowInvalid' | 'getCriteriaType' | 'getCriteriaValues' | 'getHelpText' | 'copy'>
{
  constructor(
    private readonly rt: Runtime,
    readonly rule: ValidationRule,
  ) {}

  getAllowInvalid(): boolean {
    return this.rt.track('DataValidation.getAllowInvalid', () => this.rule.allowInvalid);
  }

  getCriteriaType(): GoogleAppsScript.Spreadsheet.DataValidationCriteria {
    return this.rt.track(
      'DataValidation.getCriteriaType',
      () => this.rule.criteria as unknown as GoogleAppsScript.Spreadsheet.DataValidationCriteria,
    );
  }

  getCriteriaValues(): unknown[] {
    return this.rt.track('DataValidation.getCriteriaValues', () => [...this.rule.values]);
  }

  getHelpText(): string {
    return this.rt.track('DataValidation.getHelpText', () => this.rule.helpText ?? '');
  }

  copy(): EmulatedDataValidationBuilder {
    return this.rt.track('DataValidation.copy', () => new EmulatedDataValidationBuilder(this.rt, { ...this.rule }));
  }
}

export class EmulatedDataValidationBuilder
  implements
    Subset<
      DataValidationBuilderApi,
      | 'requireValueInList'
      | 'requireCheckbox'
      | 'setAllowInvalid'
      | 'setHelpText'
      | 'getAllowInvalid'
      | 'getCriteriaType'
      | 'getCriteriaValues'
      | 'getHelpText'
      | 'build'
      | 'copy'
    >
{
  private rule: ValidationRule;

  constructor(
    private readonly rt: Runtime,
    // A new rule warns on invalid input until setAllowInvalid(false).
    rule: ValidationRule = { criteria: '', values: [], allowInvalid: true, helpText: null },
  ) {
    this.rule = rule;
  }

  requireValueInList(values: string[], showDropdown?: boolean): EmulatedDataValidationBuilder {
    return this.rt.track('DataValidationBuilder.requireValueInList', () => {
      if (!Array.isArray(values)) throw this.rt.exception('Invalid argument: values');
      this.rule = { ...this.rule, criteria: 'VALUE_IN_LIST', values: [[...values], showDropdown ?? true] };
      return this;
    });
  }

  requireCheckbox(checkedValue?: unknown, uncheckedValue?: unknown): EmulatedDataValidationBuilder {
    return this.rt.track('DataValidationBuilder.requireCheckbox', () => {
      const values = [checkedValue, uncheckedValue].filter((value) => value !== undefined);
      this.rule = { ...this.rule, criteria: 'CHECKBOX', values };
      return this;
    });
  }

  setAllowInvalid(allowInvalidData: boolean): EmulatedDataValidationBuilder {
    return this.rt.track('DataValidationBuilder.setAllowInvalid', () => {
      this.rule = { ...this.rule, allowInvalid: Boolean(allowInvalidData) };
      return this;
    });
  }

  setHelpText(helpText: string): EmulatedDataValidationBuilder {
    return this.rt.track('DataValidationBuilder.setHelpText', () => {
      this.rule = { ...this.rule, helpText: String(helpText) };
      return this;
    });
  }

  getAllowInvalid(): boolean {
    return this.rt.track('DataValidationBuilder.getAllowInvalid', () => this.rule.allowInvalid);
  }

  getCriteriaType(): GoogleAppsScript.Spreadsheet.DataValidationCriteria {
    return this.rt.track(
      'DataValidationBuilder.getCriteriaType',
      () => this.rule.criteria as unknown as GoogleAppsScript.Spreadsheet.DataValidationCriteria,
    );
  }

  getCriteriaValues(): unknown[] {
    return this.rt.track('DataValidationBuilder.getCriteriaValues', () => [...this.rule.values]);
  }

  getHelpText(): string | null {
    return this.rt.track('DataValidationBuilder.getHelpText', () => this.rule.helpText);
  }

  build(): EmulatedDataValidation {
    return this.rt.track('DataValidationBuilder.build', () => {
      if (this.rule.criteria === '') throw this.rt.exception('You must set a criteria before building a data validation rule.');
      return new EmulatedDataValidation(this.rt, { ...this.rule });
    });
  }

  copy(): EmulatedDataValidationBuilder {
    return this.rt.track('DataValidationBuilder.copy', () => new EmulatedDataValidationBuilder(this.rt, { ...this.rule }));
  }
}

/** Reports whether `value` passes `rule`. An empty cell always passes. */
export function passesValidation(rule: ValidationRule, value: unknown): boolean {
  if (value === '' || value === null || value === undefined) return true;
  if (rule.criteria === 'VALUE_IN_LIST') {
    const list = (rule.values[0] as unknown[]).map(String);
    return list.includes(String(value));
  }
  if (rule.criteria === 'CHECKBOX') {
    if (rule.values.length === 0) return typeof value === 'boolean';
    return rule.values.some((allowed) => allowed === value);
  }
  return true;
}

/** A range a chart reads, kept by position so the chart survives the range object. */
export interface ChartRange {
  sheetName: string;
  a1: string;
}

export interface ChartData {
  id: number;
  chartType: string;
  ranges: ChartRange[];
  position: { row: number; column: number; offsetX: number; offsetY: number };
  options: Record<string, unknown>;
}

export class EmulatedChart
  implements Subset<ChartApi, 'getChartId' | 'modify' | 'getNumHeaders' | 'getOptions'>
{
  constructor(
    private readonly rt: Runtime,
    readonly data: ChartData,
  ) {}

  getChartId(): number | null {
    return this.rt.track('EmbeddedChart.getChartId', () => (this.data.id > 0 ? this.data.id : null));
  }

  /** Option values by name, like `getOptions().get(name)`. */
  getOptions(): { get(option: string): unknown } {
    return this.rt.track('EmbeddedChart.getOptions', () => {
      const options = { ...this.data.options };
      return { get: (option: string) => options[option] ?? null };
    });
  }

  getNumHeaders(): number {
    return this.rt.track('EmbeddedChart.getNumHeaders', () => -1);
  }

  modify(): EmulatedChartBuilder {
    return this.rt.track('EmbeddedChart.modify', () => new EmulatedChartBuilder(this.rt, structuredClone(this.data)));
  }
}

export class EmulatedChartBuilder
  implements Subset<ChartBuilderApi, 'setChartType' | 'addRange' | 'setPosition' | 'setOption' | 'build' | 'clearRanges'>
{
  constructor(
    private readonly rt: Runtime,
    private readonly data: ChartData = {
      id: 0,
      chartType: '',
      ranges: [],
      position: { row: 1, column: 1, offsetX: 0, offsetY: 0 },
      options: {},
    },
    /** Maps a Range handed in by the script to its sheet and A1 notation. */
    private readonly describeRange?: (range: unknown) => ChartRange,
  ) {}

  setChartType(type: GoogleAppsScript.Charts.ChartType): EmulatedChartBuilder {
    return this.rt.track('EmbeddedChartBuilder.setChartType', () => {
      this.data.chartType = String(type);
      return this;
    });
  }

  addRange(range: GoogleAppsScript.Spreadsheet.Range): EmulatedChartBuilder {
    return this.rt.track('EmbeddedChartBuilder.addRange', () => {
      if (this.describeRange === undefined) throw new Error('EmbeddedChartBuilder emulation: no range resolver');
      this.data.ranges.push(this.describeRange(range));
      return this;
    });
  }

  clearRanges(): EmulatedChartBuilder {
    return this.rt.track('EmbeddedChartBuilder.clearRanges', () => {
      this.data.ranges = [];
      return this;
    });
  }

  setPosition(anchorRowPos: number, anchorColPos: number, offsetX: number, offsetY: number): EmulatedChartBuilder {
    return this.rt.track('EmbeddedChartBuilder.setPosition', () => {
      this.data.position = { row: anchorRowPos, column: anchorColPos, offsetX, offsetY };
      return this;
    });
  }

  setOption(option: string, value: unknown): EmulatedChartBuilder {
    return this.rt.track('EmbeddedChartBuilder.setOption', () => {
      this.data.options[String(option)] = value;
      return this;
    });
  }

  build(): EmulatedChart {
    return this.rt.track('EmbeddedChartBuilder.build', () => {
      if (this.data.chartType === '') throw this.rt.exception('A chart type must be set before building the chart.');
      if (this.data.ranges.length === 0) throw this.rt.exception('A chart must have at least one range.');
      return new EmulatedChart(this.rt, structuredClone(this.data));
    });
  }
}
