import type { EntitySchema, MigrationObject } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';
import type { ChannelAdapter } from './automation/channels.js';
import type { Kokyaku } from './kokyaku.js';
import { tenantIsolation } from './database/migrations/Migration20261122080000_tenant_isolation.js';
import { CALLS } from './segments/language.js';
import { CORE_VOCABULARY, composeModules } from './modules.js';
import type { ExtensionStep } from './automation/definition.js';
import { type KokyakuPlugin, PluginError, checkCompatibility, definePlugin } from './plugin.js';

/** Step types of core journeys, the engine's and core's modules': a plugin may not take these names. */
const CORE_STEP_TYPES = new Set(['WAIT', 'CONDITION', 'SEND', 'END', ...composeModules([]).flatMap((m) => (m.automationSteps ?? []).map((s) => s.type))]);

import type { PluginRule } from './crm/scoring.js';

export type { PluginRule };

/**
 * The plugins of one Kokyaku instance, checked together at start-up: each within its
 * compatibility range, and no two claiming the same name, table, attribute, step type or channel.
 * The services ask it for what plugins add, and call the hooks through it.
 */
export class PluginRegistry {
  readonly plugins: readonly KokyakuPlugin[];
  /** Journey step types of every module (core's and the plugins'), by type. */
  readonly steps = new Map<string, ExtensionStep>();
  readonly scoringRules: readonly PluginRule[];
  readonly channels: Partial<Record<'EMAIL' | 'LINE' | 'SMS', ChannelAdapter>> = {};

  constructor(plugins: readonly KokyakuPlugin[], coreVersion: string) {
    const names = new Set<string>();
    const channelOwners = new Map<string, string>();
    const languageNames = new Map<string, string>();
    for (const module of composeModules([])) for (const s of module.automationSteps ?? []) this.steps.set(s.type, { ...s, module: module.name });
    const rules: PluginRule[] = [];
    for (const plugin of plugins) {
      definePlugin(plugin);
      if (names.has(plugin.name)) throw new PluginError(`Plugin "${plugin.name}" is listed twice in plugins.`);
      names.add(plugin.name);
      checkCompatibility(plugin, coreVersion);
      const clash = (what: string, name: string, owner: string) => new PluginError(`Plugins "${plugin.name}" and ${owner} both add the ${what} "${name}": rename one of them.`);
      // Names in the segment language: none of core's, each plugin's its own (vocabularyOf composes them).
      for (const item of [...(plugin.segmentAttributes ?? []), ...(plugin.segmentFunctions ?? [])]) {
        const what = (plugin.segmentFunctions ?? []).includes(item as never) ? 'segment function' : 'segment attribute';
        if (CORE_VOCABULARY.attributes.has(item.name) || CORE_VOCABULARY.functions.has(item.name) || item.name in CALLS) {
          throw new PluginError(
            what === 'segment attribute'
              ? `Plugin "${plugin.name}": "${item.name}" is a segment attribute of Kokyaku itself; choose another name (e.g. "${plugin.name}_${item.name}").`
              : `Plugin "${plugin.name}": "${item.name}" is a name of Kokyaku's segment language; choose another (e.g. "${plugin.name}_${item.name}").`,
          );
        }
        const owner = languageNames.get(item.name);
        if (owner) throw clash(what, item.name, `"${owner}"`);
        languageNames.set(item.name, plugin.name);
      }
      for (const s of plugin.automationSteps ?? []) {
        if (CORE_STEP_TYPES.has(s.type)) throw new PluginError(`Plugin "${plugin.name}": "${s.type}" is a journey step of Kokyaku itself; choose another type name.`);
        const taken = this.steps.get(s.type);
        if (taken) throw clash('journey step type', s.type, `"${taken.module}"`);
        this.steps.set(s.type, { ...s, module: plugin.name });
      }
      for (const [channel, adapter] of Object.entries(plugin.channels ?? {}) as ['EMAIL' | 'LINE' | 'SMS', ChannelAdapter][]) {
        const owner = channelOwners.get(channel);
        if (owner) throw clash('channel', channel, `"${owner}"`);
        channelOwners.set(channel, plugin.name);
        this.channels[channel] = adapter;
      }
      for (const rule of plugin.scoringRules ?? []) {
        rules.push({ ...rule, name: `${plugin.name}: ${rule.name}`, id: String(-(rules.length + 1)), plugin: plugin.name });
      }
    }
    this.plugins = plugins;
    this.scoringRules = rules;
  }

  private kokyaku: Kokyaku | null = null;

  /** Gives hooks and steps the instance they belong to (once it is built). */
  attach(kokyaku: Kokyaku): void {
    this.kokyaku = kokyaku;
  }

  /** The instance, for hooks and steps. */
  instance(): Kokyaku {
    if (!this.kokyaku) throw new Error('PluginRegistry: not attached to a Kokyaku instance yet.');
    return this.kokyaku;
  }

  /** The plugins' MikroORM entities, registered with core's. */
  entities(): EntitySchema<any, any>[] {
    return this.plugins.flatMap((p) => [...(p.entities ?? [])]);
  }

  get(name: string): KokyakuPlugin | undefined {
    return this.plugins.find((p) => p.name === name);
  }

  /**
   * The plugins' migrations as MikroORM migrations, after core's. Each applies its statements,
   * then the tenant isolation policy to the plugin's tenant tables that exist and lack it.
   */
  migrations(): MigrationObject[] {
    return this.plugins.flatMap((plugin) =>
      (plugin.migrations ?? []).map((m) => {
        const statements = typeof m.up === 'string' ? [m.up] : [...m.up];
        const tables = plugin.tenantTables ?? [];
        class PluginMigration extends Migration {
          override async up(): Promise<void> {
            for (const statement of statements) this.addSql(statement);
            if (tables.length === 0) return;
            // Table names are checked by definePlugin (plugin prefix, lower case): safe to write here.
            this.addSql(`
              do $$
              declare t text;
              begin
                foreach t in array array[${tables.map((t) => `'${t}'`).join(', ')}]::text[] loop
                  if to_regclass('kokyaku.' || quote_ident(t)) is not null
                     and not exists (select 1 from pg_policies where schemaname = 'kokyaku' and tablename = t and policyname = 'tenant_isolation') then
                    ${tenantIsolation('%I', 't')}
                  end if;
                end loop;
              end $$`);
          }
        }
        return { name: `plugin:${plugin.name}:${m.name}`, class: PluginMigration };
      }),
    );
  }
}

/** No plugins: what services built without a registry use. */
export const NO_PLUGINS = new PluginRegistry([], '0.0.0');
