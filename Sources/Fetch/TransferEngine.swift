import CCurl
import CCurlShim
import Foundation

/// One curl multi handle driven by Dispatch, and feedspool's own queue of
/// transfers waiting for a slot (globally and per host).
///
/// `@unchecked Sendable` because every stored property is touched only on
/// `queue`: public entry points hop onto it, curl's callbacks run inside curl
/// calls made on it, and Dispatch sources target it.
final class TransferEngine: @unchecked Sendable {
    let queue = DispatchQueue(label: "feedspool.fetch.curl")
    private let settings: FetchSettings
    private var multi: UnsafeMutableRawPointer?
    private var transfers: [UnsafeMutableRawPointer: Transfer] = [:]
    private var sockets: [Int32: SocketWatch] = [:]
    private var timer: DispatchSourceTimer?

    private struct Waiting {
        let request: FetchRequest
        let host: String
        let callbackQueue: DispatchQueue
        let completion: @Sendable (Result<FetchResponse, FetchError>) -> Void
    }

    /// A first-in first-out list that removes from the front in constant time.
    private struct Line {
        var items: [Waiting] = []
        var head = 0
        var isEmpty: Bool { head == items.count }
        mutating func append(_ w: Waiting) { items.append(w) }
        mutating func removeFirst() -> Waiting {
            let w = items[head]
            head += 1
            if head > 64 && head * 2 > items.count {  // drop what was taken, now and then
                items.removeFirst(head)
                head = 0
            }
            return w
        }
        var remaining: ArraySlice<Waiting> { items[head...] }
    }

    /// Waiting transfers by host, and the hosts that have some, in turn.
    private var waiting: [String: Line] = [:]
    private var waitingHosts: [String] = []
    private var activePerHost: [String: Int] = [:]
    private var lastStartPerHost: [String: DispatchTime] = [:]
    private var spacingTimer: DispatchSourceTimer?
    private var spacingTimerDeadline: DispatchTime?

    /// The Dispatch sources of one socket, made once and then suspended or resumed as
    /// curl asks (creating and cancelling sources per request costs a trip through
    /// libdispatch's manager thread each time). The socket is closed only after
    /// both sources' cancel handlers ran.
    private final class SocketWatch {
        var read: DispatchSourceRead?
        var write: DispatchSourceWrite?
        /// Whether the source is running (not suspended).
        var readOn = false
        var writeOn = false
        /// Whether curl wants to hear about it. A source that is no longer wanted is
        /// suspended only when it fires, so a busy keep-alive connection never toggles.
        var readWanted = false
        var writeWanted = false
        var liveSources = 0
        var closeWhenIdle = false

        func setRead(_ on: Bool) {
            readWanted = on
            if on, let read, !readOn {
                read.resume()
                readOn = true
            }
        }

        func setWrite(_ on: Bool) {
            writeWanted = on
            if on, let write, !writeOn {
                write.resume()
                writeOn = true
            }
        }

        /// Called when a source fires: false (and the source suspended) when curl no longer wants it.
        func readFired() -> Bool {
            if readWanted { return true }
            if readOn { read?.suspend(); readOn = false }
            return false
        }

        func writeFired() -> Bool {
            if writeWanted { return true }
            if writeOn { write?.suspend(); writeOn = false }
            return false
        }

        /// Cancels both sources; a suspended source must be resumed for its cancel handler to run.
        func cancel() {
            if let read {
                read.cancel()
                if !readOn { read.resume() }
            }
            if let write {
                write.cancel()
                if !writeOn { write.resume() }
            }
            read = nil
            write = nil
            readOn = false
            writeOn = false
            readWanted = false
            writeWanted = false
        }
    }

    init(settings: FetchSettings) {
        self.settings = settings
        queue.sync { setUp() }
    }

    private func setUp() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard let m = curl_multi_init() else { return }
        multi = m
        let me = Unmanaged.passUnretained(self).toOpaque()
        fs_multi_setopt_socket_callback(m) { _, socket, what, user, _ in
            Unmanaged<TransferEngine>.fromOpaque(user!).takeUnretainedValue().watch(socket, what: what)
            return 0
        }
        fs_multi_setopt_pointer(m, CURLMOPT_SOCKETDATA, me)
        fs_multi_setopt_timer_callback(m) { _, milliseconds, user in
            Unmanaged<TransferEngine>.fromOpaque(user!).takeUnretainedValue().armTimer(milliseconds)
            return 0
        }
        fs_multi_setopt_pointer(m, CURLMOPT_TIMERDATA, me)
        fs_multi_setopt_long(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, settings.concurrency)
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.setEventHandler { [weak self] in self?.socketAction(CURL_SOCKET_TIMEOUT, 0) }
        t.schedule(deadline: .distantFuture)
        t.resume()
        timer = t
    }

    // MARK: submitting

    func submit(
        _ request: FetchRequest, callbackQueue: DispatchQueue,
        completion: @escaping @Sendable (Result<FetchResponse, FetchError>) -> Void
    ) {
        queue.async { [self] in
            guard multi != nil else {
                callbackQueue.async { completion(.failure(.cancelled(url: request.url))) }
                return
            }
            guard let url = URL(string: request.url), let scheme = url.scheme?.lowercased() else {
                callbackQueue.async { completion(.failure(.invalidURL(request.url))) }
                return
            }
            guard scheme == "http" || scheme == "https" || (scheme == "file" && settings.allowFileURLs) else {
                callbackQueue.async { completion(.failure(.refusedScheme(url: request.url))) }
                return
            }
            let host = scheme == "file" ? "" : (url.host ?? "").lowercased()
            if waiting[host] == nil || waiting[host]!.isEmpty { waitingHosts.append(host) }
            waiting[host, default: Line()].append(Waiting(request: request, host: host, callbackQueue: callbackQueue, completion: completion))
            startWaiting()
        }
    }

    /// Starts waiting transfers while there are free slots: hosts take turns,
    /// each host keeps to `perHost` at once and `perHostSpacing` between starts.
    private func startWaiting() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard multi != nil else { return }
        let now = DispatchTime.now()
        var earliest: DispatchTime?
        var index = 0
        while transfers.count < settings.concurrency, index < waitingHosts.count {
            let host = waitingHosts[index]
            if activePerHost[host, default: 0] >= settings.perHost {
                index += 1
                continue
            }
            if host != "", settings.perHostSpacing > 0, let last = lastStartPerHost[host] {
                let ready = last + settings.perHostSpacing
                if ready > now {
                    earliest = earliest.map { min($0, ready) } ?? ready
                    index += 1
                    continue
                }
            }
            let next = waiting[host]!.removeFirst()
            if waiting[host]!.isEmpty {
                waiting[host] = nil
                waitingHosts.remove(at: index)
            } else {
                // Round robin: this host goes to the back.
                waitingHosts.append(waitingHosts.remove(at: index))
            }
            start(next)
        }
        // No socket_action here: adding a handle makes curl arm its timer with 0 ms.
        if let earliest, transfers.count < settings.concurrency { armSpacingTimer(earliest) }
    }

    private func start(_ w: Waiting) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        guard let multi,
            let t = Transfer(
                request: w.request, host: w.host, settings: settings, engine: me, callbackQueue: w.callbackQueue,
                completion: w.completion)
        else {
            w.callbackQueue.async { w.completion(.failure(.transport(url: w.request.url, code: -1, reason: "cannot create a transfer"))) }
            return
        }
        transfers[t.handle] = t
        activePerHost[w.host, default: 0] += 1
        lastStartPerHost[w.host] = .now()
        curl_multi_add_handle(multi, t.handle)
    }

    private func armSpacingTimer(_ deadline: DispatchTime) {
        if let current = spacingTimerDeadline, current <= deadline { return }
        spacingTimerDeadline = deadline
        if spacingTimer == nil {
            let t = DispatchSource.makeTimerSource(queue: queue)
            t.setEventHandler { [weak self] in
                self?.spacingTimerDeadline = nil
                self?.startWaiting()
            }
            t.schedule(deadline: deadline)
            t.resume()
            spacingTimer = t
        } else {
            spacingTimer!.schedule(deadline: deadline)
        }
    }

    // MARK: curl's socket and timer callbacks

    /// `CURLMOPT_SOCKETFUNCTION`: what curl wants to hear about a socket.
    private func watch(_ socket: curl_socket_t, what: Int32) {
        dispatchPrecondition(condition: .onQueue(queue))
        let w: SocketWatch
        if let existing = sockets[socket] {
            w = existing
        } else {
            w = SocketWatch()
            sockets[socket] = w
        }
        let wantRead = what == CURL_POLL_IN || what == CURL_POLL_INOUT
        let wantWrite = what == CURL_POLL_OUT || what == CURL_POLL_INOUT
        if wantRead, w.read == nil {
            w.read = DispatchSource.makeReadSource(fileDescriptor: socket, queue: queue)
            activate(w.read!, socket: socket, watch: w, mask: CURL_CSELECT_IN)
            w.readOn = true
            w.readWanted = true
        } else {
            w.setRead(wantRead)
        }
        if wantWrite, w.write == nil {
            w.write = DispatchSource.makeWriteSource(fileDescriptor: socket, queue: queue)
            activate(w.write!, socket: socket, watch: w, mask: CURL_CSELECT_OUT)
            w.writeOn = true
            w.writeWanted = true
        } else {
            w.setWrite(wantWrite)
        }
    }

    /// Starts a new source of `watch`: events go to curl while it wants them.
    private func activate(_ source: any DispatchSourceProtocol, socket: curl_socket_t, watch w: SocketWatch, mask: Int32) {
        source.setEventHandler { [weak self, weak w] in
            let wanted = mask == CURL_CSELECT_IN ? w?.readFired() : w?.writeFired()
            if wanted == true { self?.socketAction(socket, mask) }
        }
        source.setCancelHandler { [weak self] in self?.sourceCancelled(socket) }
        w.liveSources += 1
        source.activate()
    }

    private func sourceCancelled(_ socket: Int32) {
        guard let w = sockets[socket] else { return }
        w.liveSources -= 1
        if w.liveSources == 0 && w.read == nil && w.write == nil {
            if w.closeWhenIdle { close(socket) }
            sockets[socket] = nil
        }
    }

    /// `CURLOPT_CLOSESOCKETFUNCTION`: close only once Dispatch has let go of the
    /// descriptor, or its number could be reused while a source still watches it.
    func closeSocket(_ socket: curl_socket_t) {
        dispatchPrecondition(condition: .onQueue(queue))
        if let w = sockets[socket] {
            w.cancel()
            if w.liveSources > 0 {
                w.closeWhenIdle = true
                return
            }
            sockets[socket] = nil
        }
        close(socket)
    }

    /// `CURLMOPT_TIMERFUNCTION`: -1 disarms, anything else fires once after that many ms.
    private func armTimer(_ milliseconds: Int) {
        guard let timer else { return }
        if milliseconds < 0 {
            timer.schedule(deadline: .distantFuture)
        } else {
            timer.schedule(deadline: .now() + .milliseconds(milliseconds))
        }
    }

    private func socketAction(_ socket: curl_socket_t, _ mask: Int32) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard let multi else { return }
        var running: Int32 = 0
        curl_multi_socket_action(multi, socket, mask, &running)
        collectFinished()
    }

    private func collectFinished() {
        guard let multi else { return }
        var left: Int32 = 0
        var finishedAny = false
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = fs_msg_result(message)
            curl_multi_remove_handle(multi, easy)
            guard let t = transfers.removeValue(forKey: easy) else { continue }
            activePerHost[t.host, default: 1] -= 1
            if activePerHost[t.host] == 0 { activePerHost[t.host] = nil }
            let result = Outcome.result(of: t, code: code, settings: settings)
            let completion = t.completion
            t.callbackQueue.async { completion(result) }
            finishedAny = true
        }
        if finishedAny { startWaiting() }
    }

    // MARK: shutdown

    /// Fails everything waiting or running with `.cancelled` and frees the multi handle.
    func shutdown() {
        queue.sync {
            guard let multi else { return }
            for (_, line) in waiting {
                for w in line.remaining { w.callbackQueue.async { w.completion(.failure(.cancelled(url: w.request.url))) } }
            }
            waiting = [:]
            waitingHosts = []
            for (easy, t) in transfers {
                curl_multi_remove_handle(multi, easy)
                let completion = t.completion
                let url = t.request.url
                t.callbackQueue.async { completion(.failure(.cancelled(url: url))) }
            }
            transfers = [:]
            curl_multi_cleanup(multi)
            self.multi = nil
            // curl_multi_cleanup closed its sockets through closeSocket; cancel what is left.
            for (_, w) in sockets { w.cancel() }
            timer?.cancel()
            timer = nil
            spacingTimer?.cancel()
            spacingTimer = nil
        }
    }
}
