import { kokyakuExpress } from '@kokyaku/server/express';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ChannelService, ConfigService, Logger, ProcessContext, SessionService } from '@vendure/core';
import cookieSession from 'cookie-session';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { KokyakuService, loggerCtx } from './kokyaku.service.js';
import { KOKYAKU_PLUGIN_OPTIONS, type ResolvedOptions } from './options.js';
import { rolesFor } from './permissions.js';

/**
 * The CRM's HTTP face inside Vendure: `/<route>/graphql` and `/<route>/console`. The middleware is
 * registered with Vendure before the application starts; it answers 503 until Kokyaku is up.
 */
export class KokyakuMount {
  router: RequestHandler | null = null;
  readonly handler: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    if (this.router) return this.router(req, res, next);
    res.status(503).json({ errors: [{ message: 'Kokyaku is starting; try again in a moment.', extensions: { code: 'UNAVAILABLE' } }] });
  };
  stop: (() => Promise<void>) | null = null;
}

@Injectable()
export class KokyakuHttp implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(KOKYAKU_PLUGIN_OPTIONS) private readonly options: ResolvedOptions & { mount: KokyakuMount },
    @Inject(KokyakuService) private readonly kokyaku: KokyakuService,
    @Inject(SessionService) private readonly sessions: SessionService,
    @Inject(ChannelService) private readonly channels: ChannelService,
    @Inject(ConfigService) private readonly config: ConfigService,
    @Inject(ProcessContext) private readonly processContext: ProcessContext,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.processContext.isServer) return;
    const kokyaku = await this.kokyaku.kokyaku();
    let staffConsole = this.options.console;
    if (staffConsole) {
      try {
        await import('@kokyaku/console');
      } catch {
        Logger.info('The staff console is off: install @kokyaku/console to serve it', loggerCtx);
        staffConsole = false;
      }
    }
    const router = await kokyakuExpress(kokyaku, {
      path: '/graphql',
      console: staffConsole ? { title: 'Kokyaku · Vendure' } : false,
      identify: (req) => this.identify(req),
    });
    const cookies = this.adminCookies();
    this.options.mount.router = cookies ? (req, res, next) => cookies(req, res, () => router(req, res, next)) : router;
    this.options.mount.stop = () => router.stop();
    Logger.info(`Kokyaku CRM API at /${this.options.route}/graphql${staffConsole ? `, staff console at /${this.options.route}/console/` : ''}`, loggerCtx);
  }

  async onApplicationShutdown(): Promise<void> {
    const stop = this.options.mount.stop;
    this.options.mount.router = null;
    this.options.mount.stop = null;
    await stop?.();
  }

  /**
   * Vendure reads its session cookie globally when it has one name; with separate shop and admin
   * cookies it reads them on its APIs only, so the CRM reads the admin cookie itself.
   */
  private adminCookies(): RequestHandler | null {
    const { tokenMethod, cookieOptions } = this.config.authOptions;
    const methods = Array.isArray(tokenMethod) ? tokenMethod : [tokenMethod];
    if (!methods.includes('cookie') || typeof cookieOptions?.name !== 'object') return null;
    return cookieSession({ ...cookieOptions, name: cookieOptions.name.admin }) as unknown as RequestHandler;
  }

  /** A Vendure administrator's session -> a Kokyaku actor with their mapped roles. */
  private async identify(req: Request) {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : (req as Request & { session?: { token?: string } }).session?.token;
    if (!token) return { actor: null, tenantId: this.options.tenant };
    const session = await this.sessions.getSessionFromToken(token);
    const user = session?.user;
    if (!user) return { actor: null, tenantId: this.options.tenant };
    const channelToken = req.headers[this.config.apiOptions.channelTokenKey.toLowerCase()];
    const channel = typeof channelToken === 'string' && channelToken ? channelToken : (await this.channels.getDefaultChannel()).token;
    const permissions = user.channelPermissions.find((c) => c.token === channel)?.permissions ?? [];
    const roles = (this.options.roles ?? rolesFor)(permissions);
    return { actor: { id: `vendure-user:${user.id}`, roles }, tenantId: this.options.tenant };
  }
}
