package seed

import (
	"time"
)

// Fixtures are named enterprises generated whatever the seed, with fixed records: their dates
// are placed relative to the as-of date only, so on a given day every demo database tells the
// same stories. Documentation and end-to-end tests rely on them.
const (
	// FixtureCompany is 沈阳示范精密机械有限公司 (铁西区, Shenyang; machine tools, C3421;
	// small): an ordinary company with a little of everything.
	//   - admin.penalty: a serious penalty 18 months ago (inside its 3-year window and past the
	//     1-year minimum, so credit repair may be applied for), an ordinary penalty 14 months
	//     ago (outside its 1-year window: institutions never see it, the company does) and a
	//     minor penalty 2 months ago (P0D: never shown to institutions).
	//   - social_insurance.headcount: 37 at the end of last month (33 a year before) — verify
	//     "headcount GE 30" → MATCH under a grant; social_insurance.payment: 12 of 12 months.
	//   - tax.revenue: 28,600,000 yuan last year (24,300,000 the year before), verify-only.
	//   - tax.credit_rating: A for the latest rating year (B the year before), authorized.
	//   - admin.licence 排污许可证 (6 months ago), ip.patent: an invention and a utility
	//     model, a registration change (capital increase), invoices with the other fixtures,
	//     quarterly water use.
	FixtureCompany = "91210106MA0U7RK97F"

	// FixtureDishonest is 大连示范商贸有限公司 (中山区, Dalian; hardware wholesale, F5174;
	// small): a company that cleaned up its past but is listed again now.
	//   - court.judgment (3 years ago, lost a sales contract dispute), court.enforcement and
	//     court.dishonest_debtor listings both ended 4 months ago (paid in full): not shown.
	//   - list.serious_dishonesty: listed 40 months ago, removed 3 months ago after credit
	//     repair (ended); its 信用修复型 commitment 4 months ago is public.
	//   - list.abnormal_operation: listed 5 months ago for a missing annual report, no endsOn:
	//     shown to every institution.
	//   - tax.credit_rating C; social_insurance.payment 7 of 12 months paid, with arrears.
	FixtureDishonest = "91210202564631289P"

	// FixtureCooperative is 新民市示范蔬菜种植专业合作社 (新民市; vegetables, A0141; micro;
	// subject type cooperative, USCC category 93): a clean record with public goods.
	//   - policy.support: farm machinery subsidy 10 months ago; honour: municipal model
	//     cooperative 20 months ago; commitment: a voluntary credit commitment 8 months ago.
	//   - tax.invoice_detail: exempt sales of its own produce; quarterly water use.
	FixtureCooperative = "932101810653847118"

	// FixtureIndividual is 和平区示范张记餐馆 (和平区, Shenyang; restaurant, H6210; subject
	// type individual_business, USCC category 92).
	//   - admin.licence 食品经营许可证 11 months ago.
	//   - admin.penalty: an ordinary penalty 3 months ago, inside its 1-year window (shown).
	//   - list.abnormal_operation: listed 26 months ago, removed 22 months ago (ended).
	//   - tax.credit_rating M; quarterly gas use.
	FixtureIndividual = "92210102MA0YH3L29D"

	// FixtureBlacklisted is 鞍山示范建筑工程有限公司 (铁东区, Anshan; construction, E4710;
	// medium): a subject under joint punishment now.
	//   - list.serious_dishonesty: listed 12 months ago for a 3-year term, endsOn 24 months
	//     ahead: active, with an endsOn in the future.
	//   - court.enforcement (7 months ago) and court.dishonest_debtor (4 months ago): active,
	//     no endsOn; court.judgment 10 months ago.
	//   - admin.penalty: serious 13 months ago (inside its window) and serious 4 years ago
	//     (outside its 3-year window); admin.licence: one 30 months ago (inside P3Y) and one
	//     4 years ago (outside).
	//   - tax.credit_rating D.
	FixtureBlacklisted = "912103026715204376"

	// FixtureExporter is 营口示范电气股份有限公司 (鲅鱼圈区, Yingkou; switchgear, C3823;
	// large): a model exporter.
	//   - customs.credit_rating: 一般信用企业 until 20 months ago (ended), 高级认证企业 since
	//     (active, no endsOn); customs.trade for the last three years.
	//   - rnd.certification: a high-tech certificate that expired 14 months ago (ended) and its
	//     renewal, valid until 22 months ahead (active).
	//   - honour 守合同重信用企业, policy.support, ip.patent and ip.trademark, tax.credit_rating
	//     A, tax.revenue, social_insurance.headcount 612, water and gas use.
	FixtureExporter = "912108047764085991"
)

// FixtureUSCCs lists the fixtures in the order they are generated.
func FixtureUSCCs() []string {
	return []string{FixtureCompany, FixtureDishonest, FixtureCooperative, FixtureIndividual, FixtureBlacklisted, FixtureExporter}
}

// fixture is a fixed enterprise and its records.
type fixture struct {
	Enterprise
	personnel []person
	records   func(f *fixtureContext)
}

// fixtureContext gives fixture record functions their enterprise, region and dates.
type fixtureContext struct {
	*emitter
	r    region
	asOf time.Time
}

// monthsAgo is the same day n months before the as-of date, or the last day of that month
// when it is shorter (31 August less 18 months is 28 February).
func (f *fixtureContext) monthsAgo(n int) time.Time {
	first := time.Date(f.asOf.Year(), f.asOf.Month()-time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(f.asOf.Day(), last), 0, 0, 0, 0, time.UTC)
}

// monthEnd is the last day of the month n months before the as-of month (n ≥ 1).
func (f *fixtureContext) monthEnd(n int) time.Time {
	return time.Date(f.asOf.Year(), f.asOf.Month()-time.Month(n)+1, 0, 0, 0, 0, 0, time.UTC)
}

// yearEnd is 31 December of the year n years before the as-of year (n ≥ 1).
func (f *fixtureContext) yearEnd(n int) time.Time {
	return time.Date(f.asOf.Year()-n, 12, 31, 0, 0, 0, 0, time.UTC)
}

// ratingYear is the latest tax credit rating year published by the as-of date (ratings of a
// year are published on 20 April of the next), and its publication date; n ≥ 1 goes back.
func (f *fixtureContext) ratingYear(n int) (int, time.Time) {
	y := f.asOf.Year() - 1
	if f.asOf.Before(time.Date(f.asOf.Year(), 4, 20, 0, 0, 0, 0, time.UTC)) {
		y--
	}
	y -= n - 1
	return y, time.Date(y+1, 4, 20, 0, 0, 0, 0, time.UTC)
}

func (f *fixtureContext) taxRating(n int, level string) {
	y, published := f.ratingYear(n)
	f.add("tax.credit_rating", published, time.Time{}, taxRatingData(f.r, y, level, 3))
}

func (f *fixtureContext) other(code string) *Enterprise {
	for i := range f.g.enterprises {
		if string(f.g.enterprises[i].USCC) == code {
			return &f.g.enterprises[i]
		}
	}
	panic("seed: unknown fixture " + code)
}

// twelveMonthsTo is the period of the twelve months ending with the month of end.
func twelveMonthsTo(end time.Time) period {
	start := time.Date(end.Year(), end.Month()-11, 1, 0, 0, 0, 0, time.UTC)
	return period{Year: end.Year(), Label: start.Format("2006-01") + "/" + end.Format("2006-01"), End: end, Months: 12}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func fixtureSet(asOf time.Time) []fixture {
	return []fixture{
		{
			Enterprise: Enterprise{
				USCC: FixtureCompany, Name: "沈阳示范精密机械有限公司", SubjectType: SubjectEnterprise,
				RegionCode: "210106", IndustryCode: "C3421", Size: "small", LegalRepresentative: "王建国",
				RegisteredCapital: 5_000_000, EstablishedOn: day(2016, 3, 18), Address: "沈阳市铁西区兴工街128号",
			},
			personnel: []person{{"王建国", "执行董事兼总经理"}, {"李淑华", "监事"}, {"陈晓燕", "财务负责人"}},
			records:   fixtureCompanyRecords,
		},
		{
			Enterprise: Enterprise{
				USCC: FixtureDishonest, Name: "大连示范商贸有限公司", SubjectType: SubjectEnterprise,
				RegionCode: "210202", IndustryCode: "F5174", Size: "small", LegalRepresentative: "刘长海",
				RegisteredCapital: 2_000_000, EstablishedOn: day(2011, 6, 2), Address: "大连市中山区友谊街56号",
			},
			personnel: []person{{"刘长海", "执行董事兼总经理"}, {"刘玉梅", "监事"}},
			records:   fixtureDishonestRecords,
		},
		{
			Enterprise: Enterprise{
				USCC: FixtureCooperative, Name: "新民市示范蔬菜种植专业合作社", SubjectType: SubjectCooperative,
				RegionCode: "210181", IndustryCode: "A0141", Size: "micro", LegalRepresentative: "赵德胜",
				RegisteredCapital: 1_200_000, EstablishedOn: day(2013, 4, 9), Address: "新民市大屯镇前进村",
			},
			personnel: []person{{"赵德胜", "理事长"}, {"钱玉兰", "执行监事"}},
			records:   fixtureCooperativeRecords,
		},
		{
			Enterprise: Enterprise{
				USCC: FixtureIndividual, Name: "和平区示范张记餐馆", SubjectType: SubjectIndividual,
				RegionCode: "210102", IndustryCode: "H6210", Size: "micro", LegalRepresentative: "张秀英",
				RegisteredCapital: 100_000, EstablishedOn: day(2019, 8, 15), Address: "沈阳市和平区南京街88号",
			},
			personnel: []person{{"张秀英", "经营者"}},
			records:   fixtureIndividualRecords,
		},
		{
			Enterprise: Enterprise{
				USCC: FixtureBlacklisted, Name: "鞍山示范建筑工程有限公司", SubjectType: SubjectEnterprise,
				RegionCode: "210302", IndustryCode: "E4710", Size: "medium", LegalRepresentative: "孙志强",
				RegisteredCapital: 20_000_000, EstablishedOn: day(2008, 11, 20), Address: "鞍山市铁东区胜利街211号",
			},
			personnel: []person{{"孙志强", "董事长"}, {"孙海波", "总经理"}, {"吴丽华", "监事"}},
			records:   fixtureBlacklistedRecords,
		},
		{
			Enterprise: Enterprise{
				USCC: FixtureExporter, Name: "营口示范电气股份有限公司", SubjectType: SubjectEnterprise,
				RegionCode: "210804", IndustryCode: "C3823", Size: "large", LegalRepresentative: "周振华",
				RegisteredCapital: 80_000_000, EstablishedOn: day(2005, 7, 1), Address: "营口市鲅鱼圈区滨河路18号",
			},
			personnel: []person{{"周振华", "董事长"}, {"郑晓峰", "总经理"}, {"何春梅", "董事"}, {"林德明", "监事"}},
			records:   fixtureExporterRecords,
		},
	}
}

func fixtureCompanyRecords(f *fixtureContext) {
	f.add("registration.change", day(2021, 6, 8), time.Time{}, map[string]any{
		"change_item": "注册资本变更", "before": "200万元人民币", "after": "500万元人民币", "changed_on": "2021-06-08",
	})
	licence := f.monthsAgo(6)
	f.add("admin.licence", licence, time.Time{}, licenceData("排污许可证", f.r, f.e.USCC, licence, 1))

	serious, ordinary, minor := f.monthsAgo(18), f.monthsAgo(14), f.monthsAgo(2)
	f.add("admin.penalty", serious, time.Time{}, penaltyData(f.r, "serious", penaltyKind{
		"ecology", "通过逃避监管的方式排放大气污染物", "《中华人民共和国大气污染防治法》第九十九条", "罚款、责令停产整治", 0, 0,
	}, serious, 37, 200_000))
	f.add("admin.penalty", ordinary, time.Time{}, penaltyData(f.r, "ordinary", penaltyKind{
		"emergency", "未如实记录安全生产教育和培训情况", "《中华人民共和国安全生产法》第九十七条", "罚款", 0, 0,
	}, ordinary, 112, 20_000))
	f.add("admin.penalty", minor, time.Time{}, penaltyData(f.r, "minor", penaltyKind{
		"market", "未按规定在经营场所醒目位置公示营业执照（已当场改正）", "《中华人民共和国市场主体登记管理条例》第四十八条", "警告", 0, 0,
	}, minor, 405, 0))

	invention, utility := f.monthsAgo(24), f.monthsAgo(8)
	f.add("ip.patent", invention, time.Time{}, patentData("invention", "一种数控机床主轴热变形补偿方法", invention, 1_234_567))
	f.add("ip.patent", utility, time.Time{}, patentData("utility_model", "一种用于数控车床的冷却装置", utility, 2_345_678))

	f.taxRating(2, "B")
	f.taxRating(1, "A")
	for i, amount := range []int64{24_300_000, 28_600_000} {
		y := f.yearEnd(2 - i)
		f.add("tax.revenue", y, time.Time{}, map[string]any{"year": y.Year(), "amount": amount, "basis": "增值税发票开具金额"})
	}
	for i, insured := range []int{33, 37} {
		end := f.monthEnd(13 - 12*i)
		p := twelveMonthsTo(end)
		f.add("social_insurance.payment", end, time.Time{}, socialInsuranceData(f.r, p, 12, insured, 0))
		f.add("social_insurance.headcount", end, time.Time{}, map[string]any{"as_of": date(end), "headcount": insured})
	}

	exporter, dishonest := f.other(FixtureExporter), f.other(FixtureDishonest)
	f.add("tax.invoice_detail", f.monthsAgo(5), time.Time{}, invoiceData(f.e, exporter, "*通用设备*数控车床", f.monthsAgo(5), 86_000_000, 4_100_000_000_001))
	f.add("tax.invoice_detail", f.monthsAgo(3), time.Time{}, invoiceData(f.e, exporter, "*通用设备*立式加工中心", f.monthsAgo(3), 124_000_000, 4_100_000_000_002))
	f.add("tax.invoice_detail", f.monthsAgo(1), time.Time{}, invoiceData(dishonest, f.e, "*金属制品*紧固件", f.monthsAgo(1), 1_850_000, 4_100_000_000_003))
	for _, q := range f.g.quarters(f.e.EstablishedOn, 4) {
		f.add("utility.water", q.End, time.Time{}, utilityData(q, 820, 4.5, 0))
	}
}

func fixtureDishonestRecords(f *fixtureContext) {
	judged := f.monthsAgo(36)
	f.add("court.judgment", judged, time.Time{}, judgmentData(f.r, judged, "买卖合同纠纷", "被告", "原告胜诉", false, 2381, 386_000))
	enforced, paid := f.monthsAgo(30), f.monthsAgo(4)
	f.add("court.enforcement", enforced, paid, enforcementData(f.r, enforced, 1187, 386_000, "执行完毕"))
	listed := f.monthsAgo(24)
	f.add("court.dishonest_debtor", listed, paid, dishonestData(f.r, listed, 1187, 2381, 386_000,
		"有履行能力而拒不履行生效法律文书确定义务", "已履行生效法律文书确定的义务"))

	serious, repaired := f.monthsAgo(40), f.monthsAgo(3)
	d := seriousData(f.r, seriousFields[0], serious, 3, 17)
	d["removal_reason"] = "信用修复，提前移出"
	f.add("list.serious_dishonesty", serious, repaired, d)
	commitment := f.monthsAgo(4)
	f.add("commitment", commitment, time.Time{}, commitmentData([3]string{
		"信用修复型", "申请信用修复",
		"本单位已纠正失信行为、消除不良影响，承诺今后依法诚信经营，如再次发生失信行为，自愿接受从重惩戒。",
	}, commitment, "履行中"))

	abnormal := f.monthsAgo(5)
	f.add("list.abnormal_operation", abnormal, time.Time{}, abnormalData(f.r, abnormal, 2216, abnormalReasons[0], ""))

	f.taxRating(1, "C")
	end := f.monthEnd(1)
	p := twelveMonthsTo(end)
	f.add("social_insurance.payment", end, time.Time{}, socialInsuranceData(f.r, p, 7, 12, 5*12*1150))
	f.add("social_insurance.headcount", end, time.Time{}, map[string]any{"as_of": date(end), "headcount": 12})
}

func fixtureCooperativeRecords(f *fixtureContext) {
	support := f.monthsAgo(10)
	f.add("policy.support", support, time.Time{}, supportData(supportProgramme{"农机购置与应用补贴", "新民市农业农村局", 0, 0}, support, 68_000))
	honour := f.monthsAgo(20)
	f.add("honour", honour, time.Time{}, honourData([3]string{"农民合作社市级示范社", "沈阳市农业农村局", "市级"}, honour))
	signed := f.monthsAgo(8)
	f.add("commitment", signed, time.Time{}, commitmentData([3]string{
		"主动型", "主动公开信用承诺", "本社承诺诚信经营、保障农产品质量安全，自愿接受社会监督。",
	}, signed, "履行中"))
	buyer := f.other(FixtureIndividual)
	f.add("tax.invoice_detail", f.monthsAgo(2), time.Time{}, invoiceData(f.e, buyer, "*蔬菜*黄瓜", f.monthsAgo(2), 1_260_000, 4_100_000_000_004))
	for _, q := range f.g.quarters(f.e.EstablishedOn, 4) {
		f.add("utility.water", q.End, time.Time{}, utilityData(q, 2400, 3.9, 0))
	}
}

func fixtureIndividualRecords(f *fixtureContext) {
	licence := f.monthsAgo(11)
	f.add("admin.licence", licence, time.Time{}, licenceData("食品经营许可证", f.r, f.e.USCC, licence, 31_415))
	penalty := f.monthsAgo(3)
	f.add("admin.penalty", penalty, time.Time{}, penaltyData(f.r, "ordinary", penaltyKind{
		"market", "销售标签不符合规定的预包装食品", "《中华人民共和国食品安全法》第一百二十五条", "罚款", 0, 0,
	}, penalty, 261, 5_000))
	listed, restored := f.monthsAgo(26), f.monthsAgo(22)
	f.add("list.abnormal_operation", listed, restored, abnormalData(f.r, listed, 733, abnormalReasons[1], abnormalRemovals[1]))
	f.taxRating(1, "M")
	for _, q := range f.g.quarters(f.e.EstablishedOn, 4) {
		f.add("utility.gas", q.End, time.Time{}, utilityData(q, 310, 3.6, 0))
	}
}

func fixtureBlacklistedRecords(f *fixtureContext) {
	listed := f.monthsAgo(12)
	f.add("list.serious_dishonesty", listed, listed.AddDate(3, 0, 0), seriousData(f.r, seriousFields[1], listed, 3, 42))
	enforced := f.monthsAgo(7)
	f.add("court.enforcement", enforced, time.Time{}, enforcementData(f.r, enforced, 3310, 1_260_000, "执行中"))
	dishonest := f.monthsAgo(4)
	f.add("court.dishonest_debtor", dishonest, time.Time{}, dishonestData(f.r, dishonest, 3310, 2874, 1_260_000,
		"有履行能力而拒不履行生效法律文书确定义务", ""))
	judged := f.monthsAgo(10)
	f.add("court.judgment", judged, time.Time{}, judgmentData(f.r, judged, "建设工程施工合同纠纷", "被告", "原告胜诉", false, 2874, 1_260_000))

	recent, old := f.monthsAgo(13), f.monthsAgo(48)
	f.add("admin.penalty", recent, time.Time{}, penaltyData(f.r, "serious", penaltyKind{
		"emergency", "对发生的一般生产安全事故负有责任", "《中华人民共和国安全生产法》第一百一十四条", "罚款", 0, 0,
	}, recent, 19, 500_000))
	f.add("admin.penalty", old, time.Time{}, penaltyData(f.r, "serious", penaltyKind{
		"tax", "通过虚假纳税申报少缴税款", "《中华人民共和国税收征收管理法》第六十三条", "追缴税款、罚款", 0, 0,
	}, old, 8, 320_000))

	qualification, safety := f.monthsAgo(30), f.monthsAgo(48)
	f.add("admin.licence", qualification, time.Time{}, licenceData("建筑业企业资质证书", f.r, f.e.USCC, qualification, 5021))
	f.add("admin.licence", safety, time.Time{}, licenceData("安全生产许可证", f.r, f.e.USCC, safety, 5022))
	f.taxRating(1, "D")
}

func fixtureExporterRecords(f *fixtureContext) {
	const customsCode = "2108966021"
	upgraded := f.monthsAgo(20)
	f.add("customs.credit_rating", day(2012, 5, 16), upgraded, customsRatingData(f.r, customsCode, "一般信用企业", day(2012, 5, 16)))
	f.add("customs.credit_rating", upgraded, time.Time{}, customsRatingData(f.r, customsCode, "高级认证企业", upgraded))
	for i, exports := range []int64{186_000_000, 201_000_000, 243_000_000} {
		y := f.yearEnd(3 - i).Year()
		f.add("customs.trade", f.yearEnd(3-i), time.Time{}, tradeData(f.r, y, exports, exports/4, []string{"俄罗斯", "东盟"}))
	}

	renewed := f.monthsAgo(14)
	first := renewed.AddDate(-3, 0, 0)
	f.add("rnd.certification", first, renewed, certificationData("高新技术企业", first, renewed, 101))
	f.add("rnd.certification", renewed, renewed.AddDate(3, 0, 0), certificationData("高新技术企业", renewed, renewed.AddDate(3, 0, 0), 2207))

	honour := f.monthsAgo(6)
	f.add("honour", honour, time.Time{}, honourData([3]string{"守合同重信用企业", "辽宁省市场监督管理局", "省级"}, honour))
	support := f.monthsAgo(9)
	f.add("policy.support", support, time.Time{}, supportData(supportProgramme{"研发费用后补助", "营口市科学技术局", 0, 0}, support, 450_000))
	granted := f.monthsAgo(15)
	f.add("ip.patent", granted, time.Time{}, patentData("invention", "一种高低压开关柜的智能控制方法", granted, 3_456_789))
	registered := day(2015, 9, 14)
	f.add("ip.trademark", registered, time.Time{}, trademarkData("示范电气", 9, registered, 17_654_321))

	f.taxRating(1, "A")
	for i, amount := range []int64{612_000_000, 688_000_000, 731_000_000} {
		y := f.yearEnd(3 - i)
		f.add("tax.revenue", y, time.Time{}, map[string]any{"year": y.Year(), "amount": amount, "basis": "增值税发票开具金额"})
	}
	end := f.monthEnd(1)
	p := twelveMonthsTo(end)
	f.add("social_insurance.payment", end, time.Time{}, socialInsuranceData(f.r, p, 12, 612, 0))
	f.add("social_insurance.headcount", end, time.Time{}, map[string]any{"as_of": date(end), "headcount": 612})
	for _, q := range f.g.quarters(f.e.EstablishedOn, 4) {
		f.add("utility.water", q.End, time.Time{}, utilityData(q, 52_000, 5.2, 0))
		f.add("utility.gas", q.End, time.Time{}, utilityData(q, 31_000, 3.4, 0))
	}
}
